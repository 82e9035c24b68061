/* See issue.h. */
#include "issue.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ids.h"
#include "json.h"

json_t *render_issue_json(const struct issue *is)
{
    char id[RENDER_ID_LEN];
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(issue_kind_name(is->kind)));
    json_object_set_new(o, "severity", json_string(issue_severity_name(is->severity)));
    json_object_set_new(o, "call",
                        is->call_seq ? json_string(render_call_id(is->call_seq, id)) : json_null());
    json_object_set_new(o, "stream",
                        is->stream_seq ? json_string(render_stream_id(is->stream_seq, id))
                                       : json_null());
    json_object_set_new(o, "registration",
                        is->registration ? render_str_or_null(is->registration) : json_null());
    json_object_set_new(o, "time", json_real(ptime_to_epoch_s(is->time)));
    json_t *frames = json_array();
    for (unsigned i = 0; i < is->nframes; i++)
        json_array_append_new(frames, json_integer((json_int_t)is->frames[i]));
    json_object_set_new(o, "frames", frames);
    json_object_set_new(o, "summary", render_str_or_null(is->summary));
    json_object_set_new(o, "diagnosis", render_str_or_null(is->diagnosis));
    json_t *ev = json_object();
    for (unsigned i = 0; i < is->nev; i++) {
        const struct issue_evidence *e = &is->ev[i];
        json_t *v = e->has_num ? json_real(e->num)
                    : e->json  ? json_loads(e->str, JSON_DECODE_ANY, NULL)
                               : NULL;
        json_object_set_new(ev, e->key, v ? v : render_str_or_null(e->str));
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
            if (n == 0) n = width;
        }
        fprintf(f, "%s%.*s\n", indent, (int)n, p);
        p += n;
        while (*p == ' ')
            p++;
    }
}

char *render_issue_text(const struct issue *is)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    char when[32];
    time_t s = (time_t)(is->time / PTIME_SEC);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(when, sizeof when, "%H:%M:%S", &tm);
    fprintf(f, "  %-8s %-20s %s.%03d", issue_severity_name(is->severity), issue_kind_name(is->kind),
            when, (int)(is->time % PTIME_SEC / 1000000));
    if (is->stream_seq) fprintf(f, "  " RENDER_STREAM_FMT, (unsigned long long)is->stream_seq);
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
