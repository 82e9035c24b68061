/* See issue_out.h. */
#include "issue_out.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void issue_config_print(FILE *f, const struct issue_config *cfg)
{
    const char *name, *help;
    double v;
    for (size_t i = 0; issue_config_describe(cfg, i, &name, &help, &v); i++)
        fprintf(f, "%-22s = %-8g # %s\n", name, v, help);
}
