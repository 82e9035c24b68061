/* See issue_out.h. */
#include "issue_out.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static json_t *text_json(const char *s)
{
    json_t *j = json_string(s);
    return j ? j : json_string("(not UTF-8)");
}

json_t *issue_json(const struct issue *is)
{
    char id[32];
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(issue_kind_name(is->kind)));
    json_object_set_new(o, "severity", json_string(issue_severity_name(is->severity)));
    snprintf(id, sizeof id, "call-%llu", (unsigned long long)is->call_seq);
    json_object_set_new(o, "call", is->call_seq ? json_string(id) : json_null());
    snprintf(id, sizeof id, "stream-%llu", (unsigned long long)is->stream_seq);
    json_object_set_new(o, "stream", is->stream_seq ? json_string(id) : json_null());
    json_object_set_new(o, "registration",
                        is->registration ? text_json(is->registration) : json_null());
    json_object_set_new(o, "time", json_real(ptime_to_epoch_s(is->time)));
    json_t *frames = json_array();
    for (unsigned i = 0; i < is->nframes; i++)
        json_array_append_new(frames, json_integer((json_int_t)is->frames[i]));
    json_object_set_new(o, "frames", frames);
    json_object_set_new(o, "summary", text_json(is->summary));
    json_object_set_new(o, "diagnosis", text_json(is->diagnosis));
    json_t *ev = json_object();
    for (unsigned i = 0; i < is->nev; i++) {
        const struct issue_evidence *e = &is->ev[i];
        json_t *v = e->has_num ? json_real(e->num)
                    : e->json  ? json_loads(e->str, JSON_DECODE_ANY, NULL)
                               : NULL;
        json_object_set_new(ev, e->key, v ? v : text_json(e->str));
    }
    json_object_set_new(o, "evidence", ev);
    return o;
}

/* Appends text wrapped at 100 columns, each line indented. */
static void wrap(FILE *f, const char *text, const char *indent)
{
    const size_t width = 100 - strlen(indent);
    const char *p = text;
    while (*p) {
        size_t n = strlen(p);
        if (n > width) {
            n = width;
            while (n > 0 && p[n] != ' ')
                n--;
            if (n == 0)
                n = width;
        }
        fprintf(f, "%s%.*s\n", indent, (int)n, p);
        p += n;
        while (*p == ' ')
            p++;
    }
}

char *issue_text(const struct issue *is)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    char when[32];
    time_t s = (time_t)(is->time / PTIME_SEC);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(when, sizeof when, "%H:%M:%S", &tm);
    fprintf(f, "  %-8s %-20s %s.%03d", issue_severity_name(is->severity),
            issue_kind_name(is->kind), when, (int)(is->time % PTIME_SEC / 1000000));
    if (is->stream_seq)
        fprintf(f, "  stream-%llu", (unsigned long long)is->stream_seq);
    if (is->nframes) {
        fputs("  frames", f);
        for (unsigned i = 0; i < is->nframes; i++)
            fprintf(f, "%s%llu", i ? "," : " ", (unsigned long long)is->frames[i]);
    }
    fputc('\n', f);
    wrap(f, is->summary, "      ");
    wrap(f, is->diagnosis, "      > ");
    fclose(f);
    return buf;
}

bool config_load(const char *path, config_fn fn, void *user, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return false;
    }
    char line[1024];
    unsigned no = 0;
    bool ok = true;
    while (ok && fgets(line, sizeof line, f)) {
        no++;
        char *p = line, *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        char *end = p + strlen(p);
        while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (!*p)
            continue;
        char *eq = strchr(p, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%u: expected key = value", path, no);
            ok = false;
            break;
        }
        char *k_end = eq;
        while (k_end > p && (k_end[-1] == ' ' || k_end[-1] == '\t'))
            k_end--;
        *k_end = '\0';
        char *v = eq + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        const char *why = "rejected";
        if (!fn(user, p, v, &why)) {
            snprintf(err, errlen, "%s:%u: %s: %s", path, no, p, why);
            ok = false;
        }
    }
    fclose(f);
    return ok;
}

void issue_config_print(FILE *f, const struct issue_config *cfg)
{
    const char *name, *help;
    double v;
    for (size_t i = 0; issue_config_describe(cfg, i, &name, &help, &v); i++)
        fprintf(f, "%-22s = %-8g # %s\n", name, v, help);
}
