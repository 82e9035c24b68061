/* See service.h. */
#include "service.h"

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

/* ---- a log file, reopened on SIGHUP ---- */

static struct {
    pthread_mutex_t mu;
    FILE *f;
    char path[4096];
    atomic_int reopen;
} g_file = {PTHREAD_MUTEX_INITIALIZER, NULL, "", 0};

static void on_hup(int sig)
{
    (void)sig;
    atomic_store(&g_file.reopen, 1);
}

static void to_file(enum log_level lvl, const char *msg, void *user)
{
    (void)user;
    static const char *const names[] = {"error", "warning", "info", "debug"};
    pthread_mutex_lock(&g_file.mu);
    if (atomic_exchange(&g_file.reopen, 0)) { /* logrotate moved it: a new file */
        FILE *n = fopen(g_file.path, "a");
        if (n) {
            fclose(g_file.f);
            g_file.f = n;
        }
    }
    fprintf(g_file.f, "sipscope[%d]: %s: %s\n", (int)getpid(), names[lvl], msg);
    fflush(g_file.f);
    pthread_mutex_unlock(&g_file.mu);
}

bool service_log_file(const char *path, char *err, size_t errlen)
{
    if (strlen(path) >= sizeof g_file.path) {
        snprintf(err, errlen, "--log-file: path too long");
        return false;
    }
    FILE *f = fopen(path, "a");
    if (!f) {
        snprintf(err, errlen, "--log-file %s: %s", path, strerror(errno));
        return false;
    }
    pthread_mutex_lock(&g_file.mu);
    if (g_file.f)
        fclose(g_file.f);
    g_file.f = f;
    snprintf(g_file.path, sizeof g_file.path, "%s", path);
    pthread_mutex_unlock(&g_file.mu);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_hup;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &sa, NULL);
    log_set_sink(to_file, NULL);
    return true;
}

/* ---- privileges ---- */

bool service_drop_privileges(const char *name, const char *db, char *err, size_t errlen)
{
    struct passwd *pw = getpwnam(name);
    if (!pw) {
        snprintf(err, errlen, "--user %s: no such user", name);
        return false;
    }
    if (db) {
        char p[4096];
        static const char *const suffix[] = {"", "-wal", "-shm"};
        for (int i = 0; i < 3; i++) {
            snprintf(p, sizeof p, "%s%s", db, suffix[i]);
            if (access(p, F_OK) == 0 && chown(p, pw->pw_uid, pw->pw_gid) != 0) {
                snprintf(err, errlen, "--user %s: cannot hand it %s: %s", name, p, strerror(errno));
                return false;
            }
        }
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        snprintf(err, errlen, "--user %s: %s", name, strerror(errno));
        return false;
    }
    if (pw->pw_uid != 0 && setuid(0) == 0) { /* must not be able to come back */
        snprintf(err, errlen, "--user %s: root could be taken back", name);
        return false;
    }
    log_info("running as %s (uid %u) from now on", name, (unsigned)pw->pw_uid);
    return true;
}

/* ---- syslog: last in the file, because <syslog.h> defines LOG_INFO and LOG_DEBUG as
 * macros that would change what log_info() means above; the levels are mapped before it
 * comes in ---- */
static int syslog_priority(enum log_level l)
{
    switch (l) {
    case LOG_ERROR: return 3;
    case LOG_WARN: return 4;
    case LOG_INFO: return 6;
    case LOG_DEBUG: return 7;
    }
    return 6;
}

#include <syslog.h>

static void to_syslog(enum log_level lvl, const char *msg, void *user)
{
    (void)user;
    syslog(syslog_priority(lvl), "%s", msg);
}

void service_log_syslog(void)
{
    openlog("sipscope", LOG_PID, LOG_DAEMON);
    log_set_sink(to_syslog, NULL);
}
