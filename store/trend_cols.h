/* The columns trends and lists read that the stored objects already hold (docs/output.md):
 * kept beside the JSON so that /api/v1/stats, /api/v1/top and ?reported= read plain
 * columns and indexes, not every row's JSON (json_extract of two members over 120,000
 * calls took seconds). Each is an expression of the object's text, written once here and
 * used both by the writer's statements and by the migration that fills them in databases
 * written before, so the two cannot disagree. SQLite's dialect; pg.c has its own. */
#ifndef SIPSCOPE_STORE_TREND_COLS_H
#define SIPSCOPE_STORE_TREND_COLS_H

/* clang-format off */ /* SQL text pasted from macros reads as the statement it is */
/* j: the SQL text of the call object (a column or a bound parameter) */
#define TC_ANSWER(j) "json_extract(" j ", '$.answer_time')"
#define TC_PDD(j)    "json_extract(" j ", '$.pdd_ms')"
/* the To URI's host, lower case, without port or parameters (sqlite.c's sip_host: a
 * domain's calls group together whatever ";user=phone" or ":5060" each To carried) */
#define TC_DOMAIN(j) "sip_host(json_extract(" j ", '$.to.uri'))"
/* a stream a HEP agent reported (reported_by an object); an object that is not JSON (no
 * writer stores one) counts as not reported rather than failing the row */
#define TC_REPORTED(j)                                                                             \
    "(CASE WHEN json_valid(" j ") THEN coalesce(json_type(" j ", '$.reported_by') = 'object',"     \
    " 0) ELSE 0 END)"

/* The writer's statements: a call's object is parameter 13, a stream's parameter 9 */
#define TC_CALL_VALUES TC_ANSWER("?13") ", " TC_PDD("?13") ", " TC_DOMAIN("?13")
#define TC_CALL_SET                                                                               \
    "answer_time = " TC_ANSWER("?13") ", pdd_ms = " TC_PDD("?13") ", to_domain = " TC_DOMAIN("?13")
#define TC_STREAM_VALUE TC_REPORTED("?9")

/* The trend columns as one migration step: added, filled from the stored objects once,
 * and indexed. calls_trend covers the series' query (time order, every figure it reads)
 * and the worst-N's (the same figures and each key it groups by), so both read the index
 * alone, never a row with its object. */
#define TC_MIGRATION                                                                               \
    "ALTER TABLE calls ADD COLUMN answer_time REAL;"                                               \
    "ALTER TABLE calls ADD COLUMN pdd_ms REAL;"                                                    \
    "ALTER TABLE calls ADD COLUMN to_domain TEXT;"                                                 \
    "UPDATE calls SET answer_time = " TC_ANSWER("json") ", pdd_ms = " TC_PDD("json") ","           \
    " to_domain = " TC_DOMAIN("json") ";"                                                          \
    "CREATE INDEX calls_trend ON calls(invite_time, state, final_status, answer_time,"             \
    "  end_time, pdd_ms, mos_min, to_user, from_user, callee, to_domain);"                        \
    "ALTER TABLE streams ADD COLUMN reported INTEGER NOT NULL DEFAULT 0;"                          \
    "UPDATE streams SET reported = " TC_REPORTED("json") ";"                                       \
    "CREATE INDEX streams_reported ON streams(first_time, seq) WHERE reported = 1;"
/* clang-format on */

#endif
