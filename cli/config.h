/* Configuration files (--config): `key = value` lines, '#' comments, blank lines. The
 * keys are the long options of the command that reads the file. */
#ifndef SIPSCOPE_CLI_CONFIG_H
#define SIPSCOPE_CLI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* fn is called for each pair and returns false (with *why) to reject it. Returns false
 * with err set ("PATH:LINE: ...") on the first bad line, or when path cannot be read. */
typedef bool (*config_fn)(void *user, const char *key, const char *value, const char **why);
bool config_load(const char *path, config_fn fn, void *user, char *err, size_t errlen);

#endif
