/* --alerts: what a change of an alert rule's state does (diagnose/alerts.h judges): a log
 * line, and with a webhook a JSON POST (docs/output.md "Alerts") sent by a thread of its
 * own, so that a slow receiver never holds up the capture. */
#ifndef SIPSCOPE_CLI_ALERT_HOOK_H
#define SIPSCOPE_CLI_ALERT_HOOK_H

#include "diagnose/alerts.h"

struct alert_hook;

/* url: "" or NULL for the log line only; base: "http://host:port" the examples' links
 * start with ("" relative). NULL when out of memory. */
struct alert_hook *alert_hook_new(const char *url, const char *base);
/* Logs the change and queues its POST (at most 64 wait; more are dropped, counted). */
void alert_hook_event(struct alert_hook *h, const struct alert_event *ev);
/* Sends what waits (each POST within 5 s), then stops. */
void alert_hook_free(struct alert_hook *h);

#endif
