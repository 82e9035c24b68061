/* The issue thresholds for --thresholds (the issues themselves are rendered by
 * render/issue.h). */
#ifndef SIPSCOPE_ISSUE_OUT_H
#define SIPSCOPE_ISSUE_OUT_H

#include <stdio.h>

#include "metrics/issues.h"
/* config_load moved to config.h; analyze.c, being reworked on another branch (issue 23),
 * finds it here until it includes config.h itself */
#include "config.h"

/* Prints every threshold with its value and meaning. */
void issue_config_print(FILE *f, const struct issue_config *cfg);

#endif
