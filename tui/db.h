/* `sipscope tui --db FILE|postgresql://...`: the calls of a database that another
 * sipscope writes (or wrote), read only through store/query.h and followed as they come
 * and change (each write of a call takes the next revision: the reader asks for those
 * after the last it saw, a few times a second). The tui writes nothing to it. */
#ifndef SIPSCOPE_TUI_DB_H
#define SIPSCOPE_TUI_DB_H

#include <signal.h>
#include <stdbool.h>

#include "model.h"

/* Follows db into the model until *quit; a database that cannot be opened, or fails, ends
 * the run with tui_model_done(why). */
void tui_db_follow(const char *db, struct tui_model *m, bool utf8, volatile sig_atomic_t *quit);

#endif
