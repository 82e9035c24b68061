/* SIP message parser (RFC 3261 §7, §20, §25), zero-copy in the manner of picohttpparser:
 * the start line and every header are string views into the caller's buffer; nothing is
 * allocated or copied. Header names are matched case-insensitively, compact forms
 * (RFC 3261 §7.3.3 and later RFCs) map to the same ids, folded lines (§7.3.1) stay inside
 * their header's value. Values of the headers a monitor reads (CSeq, name-addr, URI, Via,
 * parameters, comma lists) are parsed on demand by the helpers below (lazy parsing, the
 * way Kamailio does it). */
#ifndef SIPSCOPE_SIP_H
#define SIPSCOPE_SIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sv.h"
#include "decode.h"

#define SIP_HEADERS(X)                                                                     \
    X(CALL_ID, "call-id", 'i')                                                             \
    X(CSEQ, "cseq", 0)                                                                     \
    X(FROM, "from", 'f')                                                                   \
    X(TO, "to", 't')                                                                       \
    X(VIA, "via", 'v')                                                                     \
    X(CONTACT, "contact", 'm')                                                             \
    X(CONTENT_LENGTH, "content-length", 'l')                                               \
    X(CONTENT_TYPE, "content-type", 'c')                                                   \
    X(CONTENT_ENCODING, "content-encoding", 'e')                                           \
    X(MAX_FORWARDS, "max-forwards", 0)                                                     \
    X(EXPIRES, "expires", 0)                                                               \
    X(REQUIRE, "require", 0)                                                               \
    X(SUPPORTED, "supported", 'k')                                                         \
    X(RSEQ, "rseq", 0)                                                                     \
    X(RACK, "rack", 0)                                                                     \
    X(SESSION_EXPIRES, "session-expires", 'x')                                             \
    X(REASON, "reason", 0)                                                                 \
    X(AUTHORIZATION, "authorization", 0)                                                   \
    X(PROXY_AUTHORIZATION, "proxy-authorization", 0)                                       \
    X(WWW_AUTHENTICATE, "www-authenticate", 0)                                             \
    X(PROXY_AUTHENTICATE, "proxy-authenticate", 0)                                         \
    X(USER_AGENT, "user-agent", 0)                                                         \
    X(SERVER, "server", 0)                                                                 \
    X(ROUTE, "route", 0)                                                                   \
    X(RECORD_ROUTE, "record-route", 0)                                                     \
    X(SUBJECT, "subject", 's')                                                             \
    X(EVENT, "event", 'o')                                                                 \
    X(ALLOW_EVENTS, "allow-events", 'u')                                                   \
    X(REFER_TO, "refer-to", 'r')                                                           \
    X(REFERRED_BY, "referred-by", 'b')                                                     \
    X(IDENTITY, "identity", 'y')                                                           \
    X(X_CID, "x-cid", 0)                                                                   \
    X(SESSION_ID, "session-id", 0)

enum sip_hdr_id {
    SIP_H_OTHER = 0,
#define SIP_HDR_ENUM(id, name, compact) SIP_H_##id,
    SIP_HEADERS(SIP_HDR_ENUM)
#undef SIP_HDR_ENUM
    SIP_H__COUNT
};

#define SIP_MAX_HEADERS 96      /* indexed per message; more are counted, not indexed */
#define SIP_MAX_STREAM_MESSAGE (256u * 1024) /* framing cap on TCP/WebSocket */

struct sip_header {
    struct sv name;  /* as written */
    struct sv value; /* leading/trailing white space trimmed; may hold folded line breaks */
    uint8_t id;      /* enum sip_hdr_id */
};

struct sip_msg {
    bool is_request;
    struct sv method;  /* request */
    struct sv uri;     /* request */
    struct sv version; /* "SIP/2.0" */
    int status;        /* response: 100..699 */
    struct sv reason;  /* response */
    struct sip_header hdrs[SIP_MAX_HEADERS];
    uint16_t nhdrs;
    uint16_t extra_hdrs;         /* headers seen past SIP_MAX_HEADERS */
    int16_t first[SIP_H__COUNT]; /* index of the first header with that id, -1 none */
    int64_t content_length;      /* -1 when absent */
    struct sv body;
    size_t len;                  /* bytes of this message in the buffer */
    bool malformed;
    enum decode_reason error;    /* first problem found when malformed */
};

enum sip_result {
    SIP_OK,         /* m->len bytes hold one message (malformed may still be set) */
    SIP_INCOMPLETE, /* stream framing: more bytes needed */
    SIP_NOT_SIP,    /* the bytes do not start with a SIP start line */
};

#define SIP_FRAME_STREAM 1u /* TCP/WebSocket: Content-Length frames the body */

/* Parses one message at buf. With SIP_FRAME_STREAM the message ends where Content-Length
 * says (absent: no body) and SIP_INCOMPLETE asks for more; without it (UDP, SCTP, one
 * WebSocket message) the message is the whole buffer, RFC 3261 §18.3. A message whose
 * start line is SIP but whose rest is broken comes back SIP_OK with malformed set and as
 * many fields as could be read. */
enum sip_result sip_parse(const char *buf, size_t len, unsigned flags, struct sip_msg *m);

/* Cheap test: do these bytes begin with a SIP request or status line? */
bool sip_looks_like(const char *buf, size_t len);

static inline const struct sip_header *sip_hdr(const struct sip_msg *m, enum sip_hdr_id id)
{
    return m->first[id] >= 0 ? &m->hdrs[m->first[id]] : NULL;
}
/* The next header with the same id after h, or NULL. */
const struct sip_header *sip_hdr_next(const struct sip_msg *m, const struct sip_header *h);
/* Header by name (any case, compact forms resolved), for headers without an id. */
const struct sip_header *sip_hdr_by_name(const struct sip_msg *m, struct sv name);
enum sip_hdr_id sip_hdr_lookup(struct sv name);

/* ---- values, parsed on demand ------------------------------------------------------- */

/* Splits a comma list (Via, Contact, Route...), honouring quotes and <...>: takes the next
 * element off *rest. False when nothing is left. */
bool sip_list_next(struct sv *rest, struct sv *item);

/* CSeq: "4711 INVITE". */
bool sip_cseq_parse(struct sv v, uint32_t *num, struct sv *method);

struct sip_uri {
    struct sv scheme; /* sip, sips, tel, urn... */
    struct sv user;   /* before '@', without password; SV_NULL when none */
    struct sv host;   /* without brackets for IPv6 references */
    uint16_t port;    /* 0 when absent */
    struct sv params; /* ";a=b;lr" (the leading ';' included), may be empty */
};
bool sip_uri_parse(struct sv v, struct sip_uri *u);

/* name-addr / addr-spec with header parameters: From, To, Contact, Route, Refer-To. */
struct sip_nameaddr {
    struct sv display; /* unquoted-as-written display name; SV_NULL when none */
    struct sv uri;     /* inside <...>, or the addr-spec */
    struct sv params;  /* header parameters after the address (";tag=..."), may be empty */
    bool star;         /* Contact: * */
};
bool sip_nameaddr_parse(struct sv v, struct sip_nameaddr *na);

/* One via-parm: "SIP/2.0/UDP host:port;branch=...". */
struct sip_via {
    struct sv transport; /* UDP, TCP, TLS, SCTP, WS, WSS */
    struct sv host;
    uint16_t port;       /* 0 when absent */
    struct sv params;
};
bool sip_via_parse(struct sv v, struct sip_via *via);

/* Parameter value from ";a=b;c;d=\"e\"" (names case-insensitive). *found tells a
 * parameter without value (";lr") from an absent one. */
struct sv sip_param(struct sv params, const char *name, bool *found);

/* Authorization / WWW-Authenticate / Proxy-*: the scheme ("Digest") and one of its
 * comma-separated parameters (realm, nonce, username, uri, response, algorithm, qop,
 * stale...), quotes removed (RFC 3261 §25.1 challenge/credentials, RFC 2617 §3.2). */
struct sv sip_auth_scheme(struct sv v);
struct sv sip_auth_param(struct sv v, const char *name, bool *found);

/* Masks the credentials in the Authorization and Proxy-Authorization header fields of
 * every SIP message in buf (a message's text, or a whole frame: each header section is
 * found after the line that holds "SIP/2.0"), in place and keeping every length, so that
 * a frame stays a frame: a Digest response= value (RFC 2617 §3.2.2: with the nonce, it
 * lets a password be guessed offline) becomes '*'s, and so does everything after any
 * other scheme's name (Basic carries the password itself); and so are SDES keys
 * (sip_mask_sdes). Returns the fields and keys masked. */
unsigned sip_mask_credentials(char *text, size_t n);
/* The key and salt of every SDP a=crypto line's inline: parameter (RFC 4568 §9.1: with
 * them anyone holding the capture hears the SRTP call), in place, lengths kept. Returns
 * the keys masked. */
unsigned sip_mask_sdes(char *text, size_t n);

/* Whole-number header values (Content-Length, Expires, Max-Forwards, RSeq). */
bool sip_uint_parse(struct sv v, uint64_t max, uint64_t *out);

/* A DTMF digit carried in an INFO body (application/dtmf-relay "Signal=5 / Duration=160",
 * or application/dtmf holding the digit): false when the body is not one. *duration_ms is
 * -1 when the body gives none. */
bool sip_body_dtmf(const struct sip_msg *m, char *digit, int64_t *duration_ms);

/* Case-insensitive compare of a view and a C string. */
bool sv_ieq_cstr(struct sv a, const char *s);

/* Copies v into buf with folded line breaks replaced by one space (RFC 3261 §7.3.1);
 * returns the length written (cut at cap). */
size_t sip_unfold(struct sv v, char *buf, size_t cap);

/* RFC 7989 Session-ID: "local-uuid;remote=remote-uuid", each 32 hex digits (written here in
 * lower case, NUL-ended). A UUID of all zeros means "not known yet" (§6) and is given as
 * "". False when the message has no Session-ID or its local UUID is not 32 hex digits. */
bool sip_session_id(const struct sip_msg *m, char local[33], char remote[33]);

/* The Call-ID a B2BUA's outgoing INVITE names as its incoming leg's (X-CID, X-Call-ID or
 * X-Orig-Call-ID, the first present), unfolded into buf (cut at cap - 1, NUL-ended);
 * false when none. */
bool sip_named_call_id(const struct sip_msg *m, char *buf, size_t cap);

#endif
