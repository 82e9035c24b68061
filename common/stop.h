/* Stopping on SIGINT or SIGTERM, one way for every command (a capture, an analysis, a
 * server): the handler only records the signal and wakes a self-pipe, so a loop can poll
 * the flag and a thread that has nothing else to do can sleep until it is set, whichever
 * of the process's threads the kernel delivered the signal to. Process-wide by nature:
 * signals are. */
#ifndef SIPSCOPE_STOP_H
#define SIPSCOPE_STOP_H

#include <signal.h>

/* Catches SIGINT and SIGTERM from now on (again: the flag is cleared, so that a stop
 * already seen does not end what comes next). Interrupted system calls restart. */
void stop_catch(void);
/* 0 until a caught SIGINT or SIGTERM, then that signal's number: for loops to poll. */
const volatile sig_atomic_t *stop_flag(void);
/* Sleeps until a stop signal was caught (at once if it was already); returns it. */
int stop_wait(void);

#endif
