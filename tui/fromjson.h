/* The terminal UI's rows, streams and issues read from docs/output.md objects: a
 * database's rows (`sipscope tui --db`) and the live run's streams as render/stream.h
 * writes them, so that both show the same figures the same way. */
#ifndef SIPSCOPE_TUI_FROMJSON_H
#define SIPSCOPE_TUI_FROMJSON_H

#include <jansson.h>
#include <stdbool.h>

#include "model.h"

/* A stream's figures; false: not a stream object. */
bool tui_stream_from_json(struct tui_stream *s, const json_t *o);
/* A call's row, and its issues into *issues (malloc'd, at most TUI_MAX_ISSUES; *n of them).
 * false: not a call object (or no memory for its issues). */
bool tui_row_from_json(struct tui_row *r, const json_t *call, struct tui_issue **issues, size_t *n);

#endif
