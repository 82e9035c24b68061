/* See stop.h. */
#include "stop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_sig;
static int g_pipe[2] = {-1, -1};

/* Async-signal-safe only: a store and a write(2). errno is the interrupted code's. */
static void on_stop(int sig)
{
    int saved = errno;
    g_sig = sig;
    if (g_pipe[1] >= 0) {
        ssize_t n = write(g_pipe[1], "", 1);
        (void)n; /* full: a wake-up is pending already */
    }
    errno = saved;
}

void stop_catch(void)
{
    if (g_pipe[0] < 0 && pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        g_pipe[0] = g_pipe[1] = -1; /* stop_wait then polls the flag alone */
    char drain[64];
    while (g_pipe[0] >= 0 && read(g_pipe[0], drain, sizeof drain) > 0)
        ;
    g_sig = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESTART; /* as signal(2) does on glibc, which the commands used before */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

const volatile sig_atomic_t *stop_flag(void)
{
    return &g_sig;
}

int stop_wait(void)
{
    while (!g_sig) {
        struct pollfd p = {.fd = g_pipe[0], .events = POLLIN};
        /* no pipe: look again every 200 ms */
        if (poll(&p, g_pipe[0] >= 0 ? 1 : 0, g_pipe[0] >= 0 ? -1 : 200) > 0) {
            char drain[64];
            while (read(g_pipe[0], drain, sizeof drain) > 0)
                ;
        }
    }
    return g_sig;
}
