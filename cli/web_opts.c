/* See web_opts.h. */
#include "web_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool web_opts_given(const struct web_opts *w)
{
    return w->threads || w->token_file || w->user_file || w->cfg.cert || w->cfg.key ||
           w->cfg.show_credentials;
}

/* The first line of a file, or NULL. */
static char *first_line(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    fclose(f);
    if (n <= 0) {
        free(line);
        return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

struct web_server *web_opts_start(struct web_opts *w, char *err, size_t errlen)
{
    if (w->token_file && !w->token && !(w->token = first_line(w->token_file))) {
        snprintf(err, errlen, "cannot read %s", w->token_file);
        return NULL;
    }
    if (w->user_file && !w->user && !(w->user = first_line(w->user_file))) {
        snprintf(err, errlen, "cannot read %s", w->user_file);
        return NULL;
    }
    w->cfg.threads = (unsigned)w->threads;
    w->cfg.token = w->token ? w->token : getenv("SIPSCOPE_TOKEN");
    w->cfg.basic = w->user ? w->user : getenv("SIPSCOPE_USER");
    return web_start(&w->cfg, err, errlen);
}

void web_opts_free(struct web_opts *w)
{
    free(w->token);
    free(w->user);
    w->token = w->user = NULL;
}
