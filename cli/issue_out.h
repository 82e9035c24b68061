/* The issue thresholds from a file and for --thresholds (the issues themselves are
 * rendered by render/issue.h). */
#ifndef SIPSCOPE_ISSUE_OUT_H
#define SIPSCOPE_ISSUE_OUT_H

#include <stdio.h>

#include "metrics/issues.h"

/* `key = value` lines, '#' comments, blank lines; fn is called for each pair and returns
 * false (with *why) to reject it. Returns false with err set on the first bad line. */
typedef bool (*config_fn)(void *user, const char *key, const char *value, const char **why);
bool config_load(const char *path, config_fn fn, void *user, char *err, size_t errlen);

/* Prints every threshold with its value and meaning. */
void issue_config_print(FILE *f, const struct issue_config *cfg);

#endif
