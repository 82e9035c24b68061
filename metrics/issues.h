/* The issue engine moved to its own layer, diagnose/ (docs/design.md): this header forwards
 * to it so that includes of the old path keep working until they name the new one. */
#ifndef SIPSCOPE_METRICS_ISSUES_H
#define SIPSCOPE_METRICS_ISSUES_H

#include "diagnose/issues.h"

#endif
