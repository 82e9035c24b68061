/* The SQLite schema: store_sqlite_migrations[k] takes a database from version k to k + 1
 * (sqlite.c runs each in its own transaction), so a database written by one version opens
 * in the next. */
#include "store.h"
#include "store_int.h"
#include "trend_cols.h"

const char *const store_sqlite_migrations[] = {
    /* 0 -> 1: the first schema */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;"
    "CREATE TABLE calls(seq INTEGER PRIMARY KEY, call_id TEXT, from_user TEXT, to_user TEXT,"
    "  caller TEXT, callee TEXT, state TEXT NOT NULL, final_status INTEGER,"
    "  invite_time REAL NOT NULL, end_time REAL, mos_min REAL, issue_kinds TEXT,"
    "  json TEXT NOT NULL);"
    "CREATE INDEX calls_time ON calls(invite_time);"
    "CREATE INDEX calls_call_id ON calls(call_id);"
    "CREATE INDEX calls_from ON calls(from_user);"
    "CREATE INDEX calls_to ON calls(to_user);"
    "CREATE INDEX calls_state ON calls(state, invite_time);"
    "CREATE INDEX calls_status ON calls(final_status, invite_time);"
    "CREATE INDEX calls_mos ON calls(mos_min);"
    "CREATE INDEX calls_caller ON calls(caller);"
    "CREATE INDEX calls_callee ON calls(callee);"
    "CREATE TABLE streams(seq INTEGER PRIMARY KEY, call_seq INTEGER, src TEXT, dst TEXT,"
    "  codec TEXT, first_time REAL, last_time REAL, mos REAL, json TEXT NOT NULL,"
    "  timeline TEXT);"
    "CREATE INDEX streams_call ON streams(call_seq);"
    "CREATE INDEX streams_time ON streams(first_time);"
    "CREATE TABLE registrations(id INTEGER PRIMARY KEY, aor TEXT NOT NULL, contact TEXT,"
    "  source TEXT, state TEXT, first_time REAL, last_time REAL, json TEXT NOT NULL);"
    "CREATE INDEX registrations_aor ON registrations(aor);"
    "CREATE INDEX registrations_time ON registrations(last_time);"
    "CREATE TABLE issues(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, severity TEXT NOT NULL,"
    "  call_seq INTEGER, stream_seq INTEGER, registration TEXT, time REAL NOT NULL,"
    "  json TEXT NOT NULL);"
    "CREATE INDEX issues_kind ON issues(kind, time);"
    "CREATE INDEX issues_call ON issues(call_seq);"
    "CREATE INDEX issues_time ON issues(time);"
    "CREATE TABLE messages(id INTEGER PRIMARY KEY, call_seq INTEGER, frame INTEGER,"
    "  time REAL NOT NULL, src TEXT, dst TEXT, transport TEXT, method TEXT, status INTEGER,"
    "  call_id TEXT, cseq TEXT, retransmission INTEGER NOT NULL, raw BLOB NOT NULL,"
    "  linktype INTEGER, frame_bytes BLOB);"
    "CREATE INDEX messages_call ON messages(call_seq, time);"
    "CREATE INDEX messages_call_id ON messages(call_id);"
    "CREATE INDEX messages_time ON messages(time);",

    /* 1 -> 2:
     * - a message's raw text is no longer kept twice: where it lies inside the frame
     *   stored beside it (every UDP message), raw is NULL and raw_off/raw_len point into
     *   frame_bytes; the view message_text gives the text either way. Without raw SIP
     *   (--db-no-raw) raw and frame_bytes are both NULL.
     * - messages get the response's reason phrase and the malformed flag (docs/output.md);
     * - the Call-ID index on messages goes (the API finds calls by Call-ID through legs),
     *   and so does the time index but for messages of no call, which retention sweeps.
     * - legs: every Call-ID (with its tags) of a call, filled from the call's object.
     * - runs: one row per analysis or capture run, with its capture and stats blocks.
     * - media: the RTP/RTCP frames of a call, kept when the capture spools media, as
     *   pcap records (16-byte header with nanoseconds, then the frame) in one blob per
     *   chunk. */
    "CREATE TABLE messages2(id INTEGER PRIMARY KEY, call_seq INTEGER, frame INTEGER,"
    "  time REAL NOT NULL, src TEXT, dst TEXT, transport TEXT, method TEXT, status INTEGER,"
    "  call_id TEXT, cseq TEXT, retransmission INTEGER NOT NULL, raw BLOB, raw_off INTEGER,"
    "  raw_len INTEGER NOT NULL, linktype INTEGER, frame_bytes BLOB, reason TEXT,"
    "  malformed INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO messages2(id, call_seq, frame, time, src, dst, transport, method, status,"
    "  call_id, cseq, retransmission, raw, raw_off, raw_len, linktype, frame_bytes)"
    "  SELECT id, call_seq, frame, time, src, dst, transport, method,"
    "  status, call_id, cseq, retransmission,"
    "  CASE WHEN instr(frame_bytes, raw) > 0 THEN NULL ELSE raw END,"
    "  CASE WHEN instr(frame_bytes, raw) > 0 THEN instr(frame_bytes, raw) - 1 END,"
    "  length(raw), linktype, frame_bytes FROM messages;"
    "DROP TABLE messages;"
    "ALTER TABLE messages2 RENAME TO messages;"
    "CREATE INDEX messages_call ON messages(call_seq, time);"
    "CREATE INDEX messages_loose ON messages(time) WHERE call_seq IS NULL;"
    "CREATE VIEW message_text AS SELECT id, coalesce(raw, substr(frame_bytes, raw_off + 1,"
    "  raw_len)) AS raw FROM messages;"
    "CREATE TABLE legs(call_seq INTEGER NOT NULL, call_id TEXT NOT NULL, from_tag TEXT,"
    "  to_tag TEXT);"
    "CREATE INDEX legs_call ON legs(call_seq);"
    "CREATE INDEX legs_call_id ON legs(call_id);"
    "INSERT INTO legs SELECT seq, json_extract(l.value, '$.call_id'),"
    "  json_extract(l.value, '$.from_tag'), json_extract(l.value, '$.to_tag')"
    "  FROM calls, json_each(calls.json, '$.legs') AS l;"
    "CREATE TABLE runs(id INTEGER PRIMARY KEY, started REAL NOT NULL, ended REAL,"
    "  first_call_seq INTEGER, last_call_seq INTEGER, json TEXT);"
    "CREATE TABLE media(id INTEGER PRIMARY KEY, call_seq INTEGER, first_time REAL NOT NULL,"
    "  last_time REAL NOT NULL, linktype INTEGER NOT NULL, packets INTEGER NOT NULL,"
    "  frames BLOB NOT NULL);"
    "CREATE INDEX media_call ON media(call_seq, first_time);"
    "CREATE INDEX media_time ON media(first_time);"
    /* rev: when the call was last written, from one counter, so that a reader (the API's
     * event stream) finds what is new or changed since the revision it saw */
    "ALTER TABLE calls ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;"
    "UPDATE calls SET rev = seq;"
    "CREATE INDEX calls_rev ON calls(rev);",

    /* 2 -> 3: the probe (--probe, by default the host name) that wrote each row, so that
     * several probes' rows stay apart in one database (PostgreSQL, docs/deploy.md) and a
     * file says where it was made. */
    "ALTER TABLE calls ADD COLUMN probe TEXT;"
    "ALTER TABLE streams ADD COLUMN probe TEXT;"
    "ALTER TABLE registrations ADD COLUMN probe TEXT;"
    "ALTER TABLE issues ADD COLUMN probe TEXT;"
    "ALTER TABLE messages ADD COLUMN probe TEXT;"
    "ALTER TABLE media ADD COLUMN probe TEXT;"
    "ALTER TABLE runs ADD COLUMN probe TEXT;",

    /* 3 -> 4: the keys that join one call's legs seen by different probes (a B2BUA's two
     * sides, each on its own probe): every Call-ID of a call, the Call-ID its X-CID names,
     * its RFC 7989 Session-ID UUIDs. kind is what a key is matched against: "cid" (a
     * Call-ID, its own or one its X-CID names) or "sid" (a Session-ID UUID, local or
     * remote); via says where it came from (call_id, x_cid, session_id). One row per
     * call and key; the index on (key, kind) finds the calls that share one. */
    "CREATE TABLE call_keys(call_seq INTEGER NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,"
    "  via TEXT NOT NULL, probe TEXT, time REAL, UNIQUE(call_seq, kind, key));"
    "CREATE INDEX call_keys_key ON call_keys(key, kind);"
    "INSERT OR IGNORE INTO call_keys(call_seq, kind, key, via, probe, time)"
    "  SELECT l.call_seq, 'cid', l.call_id, 'call_id', c.probe, c.invite_time"
    "  FROM legs l JOIN calls c ON c.seq = l.call_seq;",

    /* 4 -> 5: the columns trends, top and ?reported= read, filled from the objects */
    TC_MIGRATION,
};

_Static_assert(sizeof store_sqlite_migrations / sizeof store_sqlite_migrations[0] ==
                   STORE_SCHEMA_VERSION,
               "one migration per schema version");

const size_t store_sqlite_nmigrations =
    sizeof store_sqlite_migrations / sizeof store_sqlite_migrations[0];
