/* Text from the wire made safe for a terminal: SIP is attacker input, and an escape
 * sequence in a display name must never reach the terminal raw. Control bytes (C0, DEL)
 * are written as \xNN, and so is every byte that is not part of a well-formed UTF-8
 * character (or, on a terminal without UTF-8, every byte above 0x7e), and the C1 controls
 * U+0080 to U+009F that some terminals obey in UTF-8 too. */
#ifndef SIPSCOPE_TUI_SAFE_H
#define SIPSCOPE_TUI_SAFE_H

#include <stdbool.h>
#include <stddef.h>

/* Writes the safe form of p[0..n) to out (NUL-terminated, cut at a whole character when
 * cap is short); returns its columns (one per character). */
size_t tui_safe(const char *p, size_t n, char *out, size_t cap, bool utf8);

#endif
