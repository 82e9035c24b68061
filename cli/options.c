/* See options.h. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define OPTS_MAX 96 /* rows in a table: getopt's is built on the stack */

static bool belongs(const struct opt_def *d, const char *cmd)
{
    return !d->only || !strcmp(d->only, cmd);
}

static bool apply(const struct opt_def *d, const char *cmd, void *ctx, const char *value, char *err,
                  size_t errlen)
{
    const char *why = NULL;
    if (!belongs(d, cmd)) {
        snprintf(err, errlen, "--%s is for sipscope %s", d->name, d->only);
        return false;
    }
    if (d->set(ctx, d, value, &why)) return true;
    if (why) /* the setter's own reason, about this value */
        snprintf(err, errlen, "--%s %s: %s", d->name, value ? value : "", why);
    else
        snprintf(err, errlen, "--%s wants %s", d->name, d->wants ? d->wants : "a value");
    return false;
}

enum opts_result opts_parse(const struct opt_def *t, size_t n, const char *cmd, void *ctx, int argc,
                            char **argv, int *first, char *err, size_t errlen)
{
    struct option lo[OPTS_MAX + 1];
    char so[2 * OPTS_MAX + 1];
    size_t k = 0;
    if (n > OPTS_MAX) {
        snprintf(err, errlen, "too many options");
        return OPTS_BAD;
    }
    for (size_t i = 0; i < n; i++) {
        /* a row's index is its getopt value: 256 and up, clear of the letters */
        lo[i] = (struct option){t[i].name, t[i].arg ? required_argument : no_argument, NULL,
                                256 + (int)i};
        if (t[i].letter) {
            so[k++] = t[i].letter;
            if (t[i].arg) so[k++] = ':';
        }
    }
    lo[n] = (struct option){NULL, 0, NULL, 0};
    so[k] = '\0';
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
        const struct opt_def *d = NULL;
        if (ch >= 256) d = &t[ch - 256];
        for (size_t i = 0; !d && ch != '?' && i < n; i++)
            if (t[i].letter == ch) d = &t[i];
        if (!d) { /* getopt said what (unknown, or a value missing) */
            if (errlen) err[0] = '\0';
            return OPTS_BAD;
        }
        if (d->role == OPT_HELP) return OPTS_HELP;
        if (d->role == OPT_CONFIG) continue; /* read before the command line: opts_config_path */
        if (!apply(d, cmd, ctx, optarg, err, errlen)) return OPTS_BAD;
    }
    *first = optind;
    return OPTS_OK;
}

static bool word_in(const char *v, const char *const *words)
{
    for (; *words; words++)
        if (!strcmp(v, *words)) return true;
    return false;
}

bool opts_set_key(const struct opt_def *t, size_t n, const char *cmd, void *ctx, const char *key,
                  const char *value, char *err, size_t errlen)
{
    static const char *const yes[] = {"yes", "true", "on", NULL};
    static const char *const no[] = {"no", "false", "off", NULL};
    for (size_t i = 0; i < n; i++) {
        const struct opt_def *d = &t[i];
        if (strcmp(d->name, key)) continue;
        if (d->role != OPT_SET) {
            snprintf(err, errlen, "%s",
                     d->role == OPT_CONFIG ? "a config file cannot name another" : "not a setting");
            return false;
        }
        if (word_in(value, no)) return true; /* an option left off */
        if (!d->arg && !word_in(value, yes)) {
            snprintf(err, errlen, "a flag: yes or no");
            return false;
        }
        return apply(d, cmd, ctx, d->arg ? value : NULL, err, errlen);
    }
    snprintf(err, errlen, "no such option or threshold");
    return false;
}

const char *opts_config_path(const struct opt_def *t, size_t n, int argc, char **argv)
{
    const struct opt_def *c = NULL;
    for (size_t i = 0; i < n; i++)
        if (t[i].role == OPT_CONFIG) c = &t[i];
    if (!c) return NULL;
    const char *path = NULL;
    size_t nl = strlen(c->name);
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
        const char *a = argv[i];
        bool is_short = c->letter && a[0] == '-' && a[1] == c->letter;
        if (((is_short && !a[2]) || (!strncmp(a, "--", 2) && !strcmp(a + 2, c->name))) &&
            i + 1 < argc)
            path = argv[i + 1];
        else if (!strncmp(a, "--", 2) && !strncmp(a + 2, c->name, nl) && a[2 + nl] == '=')
            path = a + 3 + nl;
        else if (is_short && a[2])
            path = a + 2;
    }
    return path;
}

void opts_help(FILE *f, const struct opt_def *t, size_t n, const char *only)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].help && (only ? t[i].only && !strcmp(t[i].only, only) : !t[i].only))
            fputs(t[i].help, f);
}

bool opt_count(void *ctx, const struct opt_def *d, const char *value, const char **why)
{
    (*(int *)((char *)ctx + d->off))++;
    return true;
}

bool opt_flag(void *ctx, const struct opt_def *d, const char *value, const char **why)
{
    *(bool *)((char *)ctx + d->off) = true;
    return true;
}

bool opt_string(void *ctx, const struct opt_def *d, const char *value, const char **why)
{
    *(const char **)((char *)ctx + d->off) = value;
    return true;
}

bool opt_uint(void *ctx, const struct opt_def *d, const char *value, const char **why)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(value, &end, 10);
    if (!*value || *end || *value == '-' || errno || (double)v < d->lo || (double)v > d->hi)
        return false;
    *(uint64_t *)((char *)ctx + d->off) = v;
    return true;
}

bool opt_real_below(void *ctx, const struct opt_def *d, const char *value, const char **why)
{
    char *end;
    double v = strtod(value, &end);
    if (!*value || *end || !(v > d->lo && v < d->hi)) return false;
    *(double *)((char *)ctx + d->off) = v;
    return true;
}

bool opt_real(void *ctx, const struct opt_def *d, const char *value, const char **why)
{
    char *end;
    double v = strtod(value, &end);
    if (!*value || *end || !(v > d->lo && v <= d->hi)) return false;
    *(double *)((char *)ctx + d->off) = v;
    return true;
}
