/* Inside store/: what the query functions (query.c) need of the connection. */
#ifndef SIPSCOPE_STORE_INT_H
#define SIPSCOPE_STORE_INT_H

#include <sqlite3.h>

#include "store.h"

/* The connection, once the open batch is committed (so that a query sees it); NULL when
 * that commit failed (store_error says why). */
sqlite3 *store_reading(struct store *s);
/* Records sqlite's error message after `what`; returns false. */
bool store_failed(struct store *s, const char *what);
/* Sets the error text alone (a refusal of ours, not sqlite's). */
void store_set_error(struct store *s, const char *why);

#endif
