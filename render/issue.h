/* An issue for people and scripts: docs/output.md's <issue> object, and its lines in the
 * text report that ends `sipscope analyze` (severity, kind, time, frames; the summary and
 * the diagnosis wrapped at 100 columns). */
#ifndef SIPSCOPE_RENDER_ISSUE_H
#define SIPSCOPE_RENDER_ISSUE_H

#include <jansson.h>

#include "diagnose/issues.h"

json_t *render_issue_json(const struct issue *is);
/* The issue as the text report prints it (without its group's header); malloc'd. */
char *render_issue_text(const struct issue *is);

#endif
