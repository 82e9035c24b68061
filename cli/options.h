/* Command-line options from one table: each row names an option (its long name is also
 * its key in a --config file), says what value it takes, checks and stores it, and holds
 * its lines of --help. getopt_long's table, the config file's keys and the help text all
 * come from the rows, so they cannot drift apart. */
#ifndef SIPSCOPE_CLI_OPTIONS_H
#define SIPSCOPE_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct opt_def;

/* Checks value (NULL for a flag) and stores it in ctx. false: refused, with *why set to
 * what is wrong with this value, or left NULL for the row's `wants`. */
typedef bool (*opt_set_fn)(void *ctx, const struct opt_def *d, const char *value, const char **why);

enum opt_role {
    OPT_SET,    /* set() stores it */
    OPT_HELP,   /* -h: the caller prints the help */
    OPT_CONFIG, /* -c FILE: read before the command line (opts_config_path) */
};

struct opt_def {
    const char *name; /* --name, and the key in a config file */
    char letter;      /* -x; 0 none */
    const char *arg;  /* the value's name in the help; NULL: a flag */
    const char *only; /* NULL: every command of the table; else the one it belongs to */
    enum opt_role role;
    opt_set_fn set;
    size_t off;        /* where set() stores it in ctx (offsetof) */
    double lo, hi;     /* the value's range, for the setters that read one */
    const char *wants; /* what it wants, said when set() refuses ("a positive number") */
    const char *help;  /* its lines in --help, exactly as printed; NULL: not shown */
};

enum opts_result { OPTS_OK, OPTS_HELP, OPTS_BAD };

/* Parses argv (getopt_long, argv[0] the command) against the table for command cmd;
 * *first gets the index of the first operand. OPTS_BAD: err says why (empty when getopt
 * said it already; the caller prints it and the usage); OPTS_HELP: -h was given. */
enum opts_result opts_parse(const struct opt_def *t, size_t n, const char *cmd, void *ctx, int argc,
                            char **argv, int *first, char *err, size_t errlen);
/* One key = value of a config file: as --key=value, or --key for a flag whose value is
 * yes, true or on; no, false or off leave it off. false with err set. */
bool opts_set_key(const struct opt_def *t, size_t n, const char *cmd, void *ctx, const char *key,
                  const char *value, char *err, size_t errlen);
/* The FILE of -c FILE / --config FILE / --config=FILE on the command line, or NULL. */
const char *opts_config_path(const struct opt_def *t, size_t n, int argc, char **argv);
/* The help lines of the rows whose `only` is only (NULL: the common rows), in order. */
void opts_help(FILE *f, const struct opt_def *t, size_t n, const char *only);

/* Setters for the common kinds: off points at a bool (set true), an int (counted: -v -v),
 * a const char * (the value, borrowed from argv or the config file's copy), a uint64_t
 * (an integer in [lo, hi]) or a double (a number in (lo, hi], or (lo, hi) _below). */
bool opt_count(void *ctx, const struct opt_def *d, const char *value, const char **why);
bool opt_flag(void *ctx, const struct opt_def *d, const char *value, const char **why);
bool opt_string(void *ctx, const struct opt_def *d, const char *value, const char **why);
bool opt_uint(void *ctx, const struct opt_def *d, const char *value, const char **why);
bool opt_real(void *ctx, const struct opt_def *d, const char *value, const char **why);
bool opt_real_below(void *ctx, const struct opt_def *d, const char *value, const char **why);

#endif
