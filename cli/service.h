/* What a long-running capture needs of its process: logs to syslog or to a
 * file that SIGHUP reopens (for logrotate), and giving up root once the interfaces are
 * open. */
#ifndef SIPSCOPE_SERVICE_H
#define SIPSCOPE_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

/* Logs go to syslog (facility daemon) from now on. */
void service_log_syslog(void);
/* Logs are appended to path from now on; SIGHUP reopens it. false (err set) when it
 * cannot be opened. */
bool service_log_file(const char *path, char *err, size_t errlen);
/* Becomes user `name` (its uid, gid and groups), after handing it the database files
 * (db and its -wal and -shm, when they exist) so that it can go on writing them. false
 * (err set) when the user does not exist or the change fails; succeeding, root cannot be
 * taken back. */
bool service_drop_privileges(const char *name, const char *db, char *err, size_t errlen);

#endif
