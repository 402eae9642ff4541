/*
 * HTTP/1.x on libhtp 0.5.x.
 *
 * One htp_connp_t per connection; one process-wide htp_cfg_t, built once
 * (pthread_once) and never changed afterwards, which is what libhtp asks of
 * a configuration shared by threads. Each libhtp transaction gets a
 * struct http_tx (its user data) created by the REQUEST_START hook, or by
 * RESPONSE_START for a response libhtp could not match to a request; the
 * state keeps them oldest first. The hooks record progress, copy the raw
 * header blocks and the bodies (after dechunking and decompression) up to
 * their limits, and turn tx flags into events; libhtp's log messages become
 * events through the log hook.
 *
 * Ownership: libhtp owns every htp_tx_t (tx_auto_destroy off). A wrapper
 * only points at its htp_tx_t. http_tx_release() frees the wrappers and
 * destroys each htp_tx_t that libhtp no longer needs (request and response
 * complete, neither parser's current tx); any other is left to libhtp,
 * retried after each feed, and destroyed at the latest by
 * htp_connp_destroy_all(). libhtp keeps every log message in
 * conn->messages for the life of the connection; they are turned into
 * events as they come and freed after each libhtp call, so a long
 * connection cannot pile them up.
 *
 * When one side has to wait for the other (HTP_STREAM_DATA_OTHER, e.g. a
 * CONNECT waiting for its response), the bytes libhtp did not consume are
 * kept (up to HTTP_PENDING_MAX) and fed again once the other side has
 * moved. HTP_STREAM_ERROR ends parsing for the connection: its
 * transactions are completed as they are.
 */
#include "app/http.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <htp/htp.h>

#include "detect/detect_int.h"
#include "util/cursor.h"

/* libhtp's per-line buffering limit (Suricata's defaults): a longer header
 * line is an error (request_field_too_long) rather than memory. */
#define HTTP_FIELD_LIMIT_SOFT 9000u
#define HTTP_FIELD_LIMIT_HARD 18000u
#define HTTP_MAX_HEADERS 1024u         /* headers per request or response */
#define HTTP_DECOMPRESS_LAYERS 2       /* nested Content-Encodings decoded */
#define HTTP_HEADER_BLOCK_MAX (64u * 1024) /* raw or built header buffer, per side */
#define HTTP_PENDING_MAX (64u * 1024)  /* bytes held while a side waits (DATA_OTHER) */
#define HTTP_MAX_TX 512u               /* transactions held per connection */
#define HTTP_PUMP_ROUNDS 16u           /* retries of waiting sides per feed */

/* ===========================================================================
 * State
 * ========================================================================= */

struct http_buf {
    uint8_t *data;
    uint32_t len, cap;
};

/* Buffers built from several libhtp fields, cached per transaction. */
enum { BUILT_URI, BUILT_HOST, BUILT_HEADER, BUILT_HEADER_NAMES, BUILT_START, BUILT_COUNT };

struct http_tx {
    struct http_state *s;
    htp_tx_t *htp;
    uint64_t id;
    unsigned progress;
    uint64_t flags_seen;            /* tx flags already turned into events */
    struct app_events events;
    struct http_buf body[2];        /* request, response (decompressed) */
    struct http_buf raw_hdr[2];     /* header blocks as received */
    struct http_buf built[BUILT_COUNT][2];
    bool built_done[BUILT_COUNT][2];
};

struct http_state {
    struct http_config cfg;
    htp_connp_t *connp;
    struct http_tx **txs;           /* held, oldest first */
    unsigned ntx, txcap;
    uint64_t next_id;
    htp_tx_t **zombies;             /* released, but libhtp still needs them */
    unsigned nzombies, zcap;
    struct http_buf pending[2];     /* bytes a waiting side has not consumed */
    struct app_events orphan[2];    /* events raised before their tx existed */
    struct app_events *ev;          /* the events of the http_feed call running */
    unsigned raised;                /* events raised, to tell if an error had one */
    int dir;                        /* the side libhtp is parsing */
    bool failed, closed, done[2];
};

static bool buf_reserve(struct http_buf *b, uint32_t need, uint32_t limit)
{
    if (need <= b->cap)
        return true;
    uint32_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > UINT32_MAX / 2 ? UINT32_MAX : cap * 2;
    if (cap > limit)
        cap = limit;
    uint8_t *p = realloc(b->data, cap);
    if (p == NULL)
        return false;
    b->data = p;
    b->cap = cap;
    return true;
}

/* Appends what fits under limit; false when something was left out. */
static bool buf_add(struct http_buf *b, const void *d, size_t n, uint32_t limit)
{
    if (n == 0)
        return true;
    if (b->len >= limit)
        return false;
    uint32_t take = n < (size_t)(limit - b->len) ? (uint32_t)n : limit - b->len;
    if (!buf_reserve(b, b->len + take, limit))
        return false;
    memcpy(b->data + b->len, d, take);
    b->len += take;
    return take == n;
}

static bool buf_add_bstr(struct http_buf *b, const bstr *s, uint32_t limit)
{
    return s == NULL || buf_add(b, bstr_ptr(s), bstr_len(s), limit);
}

static void buf_free(struct http_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* ===========================================================================
 * Events
 * ========================================================================= */

static const char *const event_names[HTTP_EV_COUNT] = {
    [HTTP_EV_UNKNOWN_ERROR] = "unknown_error",
    [HTTP_EV_GZIP_DECOMPRESSION_FAILED] = "gzip_decompression_failed",
    [HTTP_EV_REQUEST_FIELD_MISSING_COLON] = "request_field_missing_colon",
    [HTTP_EV_RESPONSE_FIELD_MISSING_COLON] = "response_field_missing_colon",
    [HTTP_EV_INVALID_REQUEST_CHUNK_LEN] = "invalid_request_chunk_len",
    [HTTP_EV_INVALID_RESPONSE_CHUNK_LEN] = "invalid_response_chunk_len",
    [HTTP_EV_INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST] =
        "invalid_transfer_encoding_value_in_request",
    [HTTP_EV_INVALID_TRANSFER_ENCODING_VALUE_IN_RESPONSE] =
        "invalid_transfer_encoding_value_in_response",
    [HTTP_EV_INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST] = "invalid_content_length_field_in_request",
    [HTTP_EV_INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE] =
        "invalid_content_length_field_in_response",
    [HTTP_EV_DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST] =
        "duplicate_content_length_field_in_request",
    [HTTP_EV_DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE] =
        "duplicate_content_length_field_in_response",
    [HTTP_EV_100_CONTINUE_ALREADY_SEEN] = "100_continue_already_seen",
    [HTTP_EV_UNABLE_TO_MATCH_RESPONSE_TO_REQUEST] = "unable_to_match_response_to_request",
    [HTTP_EV_INVALID_SERVER_PORT_IN_REQUEST] = "invalid_server_port_in_request",
    [HTTP_EV_INVALID_AUTHORITY_PORT] = "invalid_authority_port",
    [HTTP_EV_REQUEST_HEADER_INVALID] = "request_header_invalid",
    [HTTP_EV_RESPONSE_HEADER_INVALID] = "response_header_invalid",
    [HTTP_EV_MISSING_HOST_HEADER] = "missing_host_header",
    [HTTP_EV_HOST_HEADER_AMBIGUOUS] = "host_header_ambiguous",
    [HTTP_EV_INVALID_REQUEST_FIELD_FOLDING] = "invalid_request_field_folding",
    [HTTP_EV_INVALID_RESPONSE_FIELD_FOLDING] = "invalid_response_field_folding",
    [HTTP_EV_REQUEST_FIELD_TOO_LONG] = "request_field_too_long",
    [HTTP_EV_RESPONSE_FIELD_TOO_LONG] = "response_field_too_long",
    [HTTP_EV_REQUEST_LINE_INVALID] = "request_line_invalid",
    [HTTP_EV_METHOD_DELIM_NON_COMPLIANT] = "method_delim_non_compliant",
    [HTTP_EV_URI_DELIM_NON_COMPLIANT] = "uri_delim_non_compliant",
    [HTTP_EV_REQUEST_LINE_LEADING_WHITESPACE] = "request_line_leading_whitespace",
    [HTTP_EV_TOO_MANY_ENCODING_LAYERS] = "too_many_encoding_layers",
};

const char *http_event_name(int code)
{
    if (code < 0 || code >= HTTP_EV_COUNT)
        return "unknown";
    return event_names[code];
}

static struct http_tx *wrapper_of(const htp_tx_t *h)
{
    return h != NULL ? htp_tx_get_user_data(h) : NULL;
}

/* An event of tx (NULL: of the side's next transaction), also reported to
 * the http_feed call running. */
static void raise_event(struct http_state *s, struct http_tx *tx, int dir, uint16_t code)
{
    app_event_add(tx != NULL ? &tx->events : &s->orphan[dir], code);
    if (s->ev != NULL)
        app_event_add(s->ev, code);
    s->raised++;
}

static void adopt_orphans(struct http_state *s, struct http_tx *tx, int dir)
{
    for (unsigned i = 0; i < s->orphan[dir].n; i++)
        app_event_add(&tx->events, s->orphan[dir].code[i]);
    s->orphan[dir].n = 0;
}

#define NO_EV (-1)
#define IGNORED (-2)

/* libhtp 0.5 logs with code 0: messages are told apart by their text.
 * First match wins; req/res are the events when the message concerns that
 * side (NO_EV: never), IGNORED for messages that are not about the traffic. */
static const struct {
    const char *prefix;
    int req, res;
} log_events[] = {
    { "GZip decompressor:", HTTP_EV_GZIP_DECOMPRESSION_FAILED, HTTP_EV_GZIP_DECOMPRESSION_FAILED },
    { "Request field invalid: colon missing", HTTP_EV_REQUEST_FIELD_MISSING_COLON, NO_EV },
    { "Response field invalid: missing colon", NO_EV, HTTP_EV_RESPONSE_FIELD_MISSING_COLON },
    { "Request chunk encoding: Invalid chunk length", HTTP_EV_INVALID_REQUEST_CHUNK_LEN, NO_EV },
    { "Response chunk encoding: Invalid chunk length", NO_EV, HTTP_EV_INVALID_RESPONSE_CHUNK_LEN },
    { "Invalid T-E value in request", HTTP_EV_INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST, NO_EV },
    { "Invalid T-E value in response", NO_EV, HTTP_EV_INVALID_TRANSFER_ENCODING_VALUE_IN_RESPONSE },
    { "Transfer-encoding has abnormal chunked value", NO_EV,
      HTTP_EV_INVALID_TRANSFER_ENCODING_VALUE_IN_RESPONSE },
    { "Invalid C-L field in request", HTTP_EV_INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST, NO_EV },
    { "Invalid C-L field in response", NO_EV, HTTP_EV_INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE },
    { "C-L value with extra data", HTTP_EV_INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST,
      HTTP_EV_INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE },
    { "Ambiguous request C-L value", HTTP_EV_DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST, NO_EV },
    { "Ambiguous response C-L value", NO_EV, HTTP_EV_DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE },
    { "Already seen 100-Continue", NO_EV, HTTP_EV_100_CONTINUE_ALREADY_SEEN },
    { "Unable to match response to request", NO_EV, HTTP_EV_UNABLE_TO_MATCH_RESPONSE_TO_REQUEST },
    { "Invalid server port information in request", HTTP_EV_INVALID_SERVER_PORT_IN_REQUEST, NO_EV },
    { "Invalid authority port", HTTP_EV_INVALID_AUTHORITY_PORT, NO_EV },
    { "Request buffer over the limit", HTTP_EV_REQUEST_FIELD_TOO_LONG, NO_EV },
    { "Request field over the limit", HTTP_EV_REQUEST_FIELD_TOO_LONG, NO_EV },
    { "Request field length exceeds folded maximum", HTTP_EV_REQUEST_FIELD_TOO_LONG, NO_EV },
    { "Response the buffer limit", NO_EV, HTTP_EV_RESPONSE_FIELD_TOO_LONG }, /* sic */
    { "Response buffer over the limit", NO_EV, HTTP_EV_RESPONSE_FIELD_TOO_LONG },
    { "Response field over the limit", NO_EV, HTTP_EV_RESPONSE_FIELD_TOO_LONG },
    { "Response field length exceeds folded maximum", NO_EV, HTTP_EV_RESPONSE_FIELD_TOO_LONG },
    { "Request line: leading whitespace", HTTP_EV_REQUEST_LINE_LEADING_WHITESPACE, NO_EV },
    { "Request line: non-compliant delimiter between Method and URI",
      HTTP_EV_METHOD_DELIM_NON_COMPLIANT, NO_EV },
    { "Request line: URI contains non-compliant delimiter", HTTP_EV_URI_DELIM_NON_COMPLIANT,
      NO_EV },
    { "Request line", HTTP_EV_REQUEST_LINE_INVALID, NO_EV }, /* unknown method, no protocol, ... */
    { "Too many response content encoding layers", NO_EV, HTTP_EV_TOO_MANY_ENCODING_LAYERS },
    { "Request field invalid", HTTP_EV_REQUEST_HEADER_INVALID, NO_EV },
    { "Request header name is not a token", HTTP_EV_REQUEST_HEADER_INVALID, NO_EV },
    { "Response field invalid", NO_EV, HTTP_EV_RESPONSE_HEADER_INVALID },
    { "Response header name is not a token", NO_EV, HTTP_EV_RESPONSE_HEADER_INVALID },
    { "Response header value contains null", NO_EV, HTTP_EV_RESPONSE_HEADER_INVALID },
    { "Host information in request headers required", HTTP_EV_MISSING_HOST_HEADER, NO_EV },
    { "Host information ambiguous", HTTP_EV_HOST_HEADER_AMBIGUOUS, NO_EV },
    { "Invalid request field folding", HTTP_EV_INVALID_REQUEST_FIELD_FOLDING, NO_EV },
    { "Invalid response field folding", NO_EV, HTTP_EV_INVALID_RESPONSE_FIELD_FOLDING },
    /* repeated on every call after an error or stop, already reported */
    { "Inbound parser is in", IGNORED, IGNORED },
    { "Outbound parser is in", IGNORED, IGNORED },
};

static int on_log(htp_log_t *log)
{
    struct http_state *s = htp_connp_get_user_data(log->connp);
    if (s == NULL || log->msg == NULL || log->level > HTP_LOG_WARNING)
        return HTP_OK;
    int dir = s->dir, code = log->level == HTP_LOG_ERROR ? HTTP_EV_UNKNOWN_ERROR : NO_EV;
    for (size_t i = 0; i < sizeof log_events / sizeof log_events[0]; i++) {
        if (strncmp(log->msg, log_events[i].prefix, strlen(log_events[i].prefix)) != 0)
            continue;
        if (log_events[i].req == IGNORED)
            return HTP_OK;
        if (log_events[i].req == NO_EV)
            dir = 1;
        else if (log_events[i].res == NO_EV)
            dir = 0;
        code = dir == 0 ? log_events[i].req : log_events[i].res;
        break;
    }
    if (code == NO_EV)
        return HTP_OK;
    htp_tx_t *h = dir == 0 ? htp_connp_get_in_tx(s->connp) : htp_connp_get_out_tx(s->connp);
    raise_event(s, wrapper_of(h), dir, (uint16_t)code);
    return HTP_OK;
}

/* Transaction flags as events, for the side whose headers or end were just
 * parsed: flags are per transaction, so each is reported once, by the side
 * that was being parsed when it appeared. */
static void check_flags(struct http_state *s, struct http_tx *tx, int dir)
{
    static const struct {
        uint64_t flag;
        uint16_t req, res;
    } flag_events[] = {
        { HTP_REQUEST_INVALID_T_E, HTTP_EV_INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST,
          HTTP_EV_INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST },
        { HTP_REQUEST_INVALID_C_L, HTTP_EV_INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST,
          HTTP_EV_INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST },
        { HTP_HOST_MISSING, HTTP_EV_MISSING_HOST_HEADER, HTTP_EV_MISSING_HOST_HEADER },
        { HTP_HOST_AMBIGUOUS, HTTP_EV_HOST_HEADER_AMBIGUOUS, HTTP_EV_HOST_HEADER_AMBIGUOUS },
        { HTP_FIELD_UNPARSEABLE, HTTP_EV_REQUEST_HEADER_INVALID, HTTP_EV_RESPONSE_HEADER_INVALID },
        { HTP_FIELD_INVALID, HTTP_EV_REQUEST_HEADER_INVALID, HTTP_EV_RESPONSE_HEADER_INVALID },
        /* obs-fold (RFC 7230 3.2.4) is deprecated; folding with no field before is invalid */
        { HTP_FIELD_FOLDED, HTTP_EV_INVALID_REQUEST_FIELD_FOLDING,
          HTTP_EV_INVALID_RESPONSE_FIELD_FOLDING },
        { HTP_INVALID_FOLDING, HTTP_EV_INVALID_REQUEST_FIELD_FOLDING,
          HTTP_EV_INVALID_RESPONSE_FIELD_FOLDING },
        { HTP_FIELD_LONG, HTTP_EV_REQUEST_FIELD_TOO_LONG, HTTP_EV_RESPONSE_FIELD_TOO_LONG },
#ifdef HTP_INVALID_CHUNKING
        { HTP_INVALID_CHUNKING, HTTP_EV_INVALID_REQUEST_CHUNK_LEN,
          HTTP_EV_INVALID_RESPONSE_CHUNK_LEN },
#endif
    };
    uint64_t fresh = tx->htp->flags & ~tx->flags_seen;
    tx->flags_seen |= fresh;
    for (size_t i = 0; fresh != 0 && i < sizeof flag_events / sizeof flag_events[0]; i++)
        if (fresh & flag_events[i].flag)
            raise_event(s, tx, dir, dir == 0 ? flag_events[i].req : flag_events[i].res);
}

/* A port as text: 1 to 65535. */
static bool port_valid(const uint8_t *p, size_t n)
{
    struct cursor c = cursor_make(p, n);
    uint32_t v = 0;
    if (n == 0 || n > 5)
        return false;
    while (cursor_remaining(&c) > 0) {
        uint8_t d = cursor_u8(&c);
        if (d < '0' || d > '9')
            return false;
        v = v * 10 + (d - '0');
    }
    return v >= 1 && v <= 65535;
}

/* The port of a Host value ("name:port", "[v6]:port"); false without one. */
static bool host_port(const bstr *host, const uint8_t **p, size_t *n)
{
    const uint8_t *d = bstr_ptr(host);
    size_t len = bstr_len(host), colon = len;
    size_t start = 0;
    if (len > 0 && d[0] == '[') {
        const uint8_t *end = memchr(d, ']', len);
        if (end == NULL)
            return false;
        start = (size_t)(end - d) + 1;
    }
    for (size_t i = start; i < len; i++) {
        if (d[i] == ':') {
            if (colon != len)
                return false; /* several colons: not a port */
            colon = i;
        }
    }
    if (colon == len)
        return false;
    *p = d + colon + 1;
    *n = len - colon - 1;
    return true;
}

/* Ports in the URI (or CONNECT authority) and in the Host header. */
static void check_ports(struct http_state *s, struct http_tx *tx)
{
    const htp_tx_t *h = tx->htp;
    const htp_uri_t *raw = h->parsed_uri_raw;
    if (raw != NULL && raw->port != NULL && !port_valid(bstr_ptr(raw->port), bstr_len(raw->port)))
        raise_event(s, tx, 0, h->request_method_number == HTP_M_CONNECT
                                  ? HTTP_EV_INVALID_AUTHORITY_PORT
                                  : HTTP_EV_INVALID_SERVER_PORT_IN_REQUEST);
    const htp_header_t *host = htp_table_get_c(h->request_headers, "host");
    const uint8_t *p;
    size_t n;
    if (host != NULL && host_port(host->value, &p, &n) && n > 0 && !port_valid(p, n))
        raise_event(s, tx, 0, HTTP_EV_INVALID_SERVER_PORT_IN_REQUEST);
}

static void check_duplicate_length(struct http_state *s, struct http_tx *tx, int dir)
{
    const htp_table_t *t = dir == 0 ? tx->htp->request_headers : tx->htp->response_headers;
    const htp_header_t *cl = htp_table_get_c(t, "content-length");
    if (cl != NULL && (cl->flags & HTP_FIELD_REPEATED))
        raise_event(s, tx, dir, dir == 0 ? HTTP_EV_DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST
                                         : HTTP_EV_DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE);
}

/* ===========================================================================
 * Transactions and libhtp hooks
 * ========================================================================= */

static struct http_state *state_of(const htp_tx_t *h)
{
    return htp_connp_get_user_data(h->connp);
}

static bool is_zombie(const struct http_state *s, const htp_tx_t *h)
{
    for (unsigned i = 0; i < s->nzombies; i++)
        if (s->zombies[i] == h)
            return true;
    return false;
}

static struct http_tx *tx_new(struct http_state *s, htp_tx_t *h)
{
    if (s->ntx == s->txcap) {
        unsigned cap = s->txcap ? s->txcap * 2 : 4;
        struct http_tx **p = realloc(s->txs, cap * sizeof *p);
        if (p == NULL)
            return NULL;
        s->txs = p;
        s->txcap = cap;
    }
    struct http_tx *tx = calloc(1, sizeof *tx);
    if (tx == NULL)
        return NULL;
    tx->s = s;
    tx->htp = h;
    tx->id = s->next_id++;
    htp_tx_set_user_data(h, tx);
    s->txs[s->ntx++] = tx;
    return tx;
}

static void tx_free(struct http_tx *tx)
{
    for (int d = 0; d < 2; d++) {
        buf_free(&tx->body[d]);
        buf_free(&tx->raw_hdr[d]);
        for (int b = 0; b < BUILT_COUNT; b++)
            buf_free(&tx->built[b][d]);
    }
    free(tx);
}

static bool too_many(const struct http_state *s)
{
    return s->ntx + s->nzombies > HTTP_MAX_TX;
}

/* Its status is ignored by libhtp (which would loop on a failure), so it
 * never fails: request_line refuses a transaction without a wrapper. */
static int on_request_start(htp_tx_t *h)
{
    struct http_state *s = state_of(h);
    struct http_tx *tx = tx_new(s, h);
    if (tx != NULL)
        adopt_orphans(s, tx, 0);
    return HTP_OK;
}

static int on_request_line(htp_tx_t *h)
{
    struct http_state *s = state_of(h);
    struct http_tx *tx = wrapper_of(h);
    if (tx == NULL)
        return HTP_ERROR;
    if (too_many(s)) {
        raise_event(s, tx, 0, HTTP_EV_UNKNOWN_ERROR);
        return HTP_ERROR;
    }
    return HTP_OK;
}

static int on_request_headers(htp_tx_t *h)
{
    struct http_tx *tx = wrapper_of(h);
    if (tx != NULL) {
        tx->progress |= HTTP_REQ_HEADERS;
        check_flags(tx->s, tx, 0);
        check_ports(tx->s, tx);
        check_duplicate_length(tx->s, tx, 0);
    }
    return HTP_OK;
}

static int on_request_complete(htp_tx_t *h)
{
    struct http_tx *tx = wrapper_of(h);
    if (tx != NULL) {
        tx->progress |= HTTP_REQ_HEADERS | HTTP_REQ_DONE;
        check_flags(tx->s, tx, 0);
    }
    return HTP_OK;
}

/* A response libhtp could not pair with a request comes with a
 * transaction of its own, seen here first. */
static int on_response_start(htp_tx_t *h)
{
    struct http_state *s = state_of(h);
    struct http_tx *tx = wrapper_of(h);
    if (tx == NULL && !is_zombie(s, h)) {
        if (too_many(s) || (tx = tx_new(s, h)) == NULL) {
            raise_event(s, NULL, 1, HTTP_EV_UNKNOWN_ERROR);
            return HTP_ERROR;
        }
    }
    if (tx != NULL)
        adopt_orphans(s, tx, 1);
    return HTP_OK;
}

/* After a 100 Continue, libhtp hands over the interim headers, the final
 * status line and the final headers as one block: keep what follows the
 * final status line. */
static void drop_interim(struct http_buf *raw, const bstr *line)
{
    const uint8_t *l = bstr_ptr(line);
    size_t ll = bstr_len(line);
    for (uint32_t i = 0; ll > 0 && i + ll <= raw->len; i++) {
        if ((i > 0 && raw->data[i - 1] != '\n') || memcmp(raw->data + i, l, ll) != 0)
            continue;
        const uint8_t *eol = memchr(raw->data + i + ll, '\n', raw->len - i - ll);
        if (eol == NULL)
            return;
        uint32_t cut = (uint32_t)(eol - raw->data) + 1;
        memmove(raw->data, raw->data + cut, raw->len - cut);
        raw->len -= cut;
        return;
    }
}

static int on_response_headers(htp_tx_t *h)
{
    struct http_tx *tx = wrapper_of(h);
    if (tx != NULL) {
        if (h->seen_100continue && h->response_line != NULL)
            drop_interim(&tx->raw_hdr[1], h->response_line);
        tx->progress |= HTTP_RESP_HEADERS;
        check_flags(tx->s, tx, 1);
        check_duplicate_length(tx->s, tx, 1);
    }
    return HTP_OK;
}

static int on_response_complete(htp_tx_t *h)
{
    struct http_tx *tx = wrapper_of(h);
    if (tx != NULL) {
        tx->progress |= HTTP_RESP_HEADERS | HTTP_RESP_DONE;
        check_flags(tx->s, tx, 1);
    }
    return HTP_OK;
}

static int on_header_data(htp_tx_data_t *d, int dir)
{
    struct http_tx *tx = wrapper_of(d->tx);
    if (tx != NULL && d->data != NULL)
        buf_add(&tx->raw_hdr[dir], d->data, d->len, HTTP_HEADER_BLOCK_MAX);
    return HTP_OK;
}

static int on_request_header_data(htp_tx_data_t *d)
{
    return on_header_data(d, 0);
}

static int on_response_header_data(htp_tx_data_t *d)
{
    return on_header_data(d, 1);
}

/* Bodies arrive dechunked and, with decompression on, decompressed; the
 * end of a body is signalled with no data. */
static int on_body_data(htp_tx_data_t *d, int dir)
{
    struct http_tx *tx = wrapper_of(d->tx);
    if (tx != NULL && d->data != NULL) {
        const struct http_config *c = &tx->s->cfg;
        buf_add(&tx->body[dir], d->data, d->len,
                dir == 0 ? c->request_body_limit : c->response_body_limit);
    }
    return HTP_OK;
}

static int on_request_body_data(htp_tx_data_t *d)
{
    return on_body_data(d, 0);
}

static int on_response_body_data(htp_tx_data_t *d)
{
    return on_body_data(d, 1);
}

/* ===========================================================================
 * Configuration (process-wide, read-only once built)
 * ========================================================================= */

static pthread_once_t shared_once = PTHREAD_ONCE_INIT;
static htp_cfg_t *shared_cfg;

static void shared_cfg_build(void)
{
    htp_cfg_t *c = htp_config_create();
    if (c == NULL)
        return;
    if (htp_config_set_server_personality(c, HTP_SERVER_IDS) != HTP_OK) {
        htp_config_destroy(c);
        return;
    }
    /* The IDS personality lowercases the path; signatures expect its case. */
    htp_config_set_convert_lowercase(c, HTP_DECODER_URL_PATH, 0);
    htp_config_set_u_encoding_decode(c, HTP_DECODER_DEFAULTS, 1);
    htp_config_set_backslash_convert_slashes(c, HTP_DECODER_URL_PATH, 1);
    htp_config_set_path_separators_decode(c, HTP_DECODER_URL_PATH, 1);
    htp_config_set_path_separators_compress(c, HTP_DECODER_URL_PATH, 1);
    htp_config_set_plusspace_decode(c, HTP_DECODER_URLENCODED, 0);
    htp_config_set_field_limits(c, HTTP_FIELD_LIMIT_SOFT, HTTP_FIELD_LIMIT_HARD);
    htp_config_set_number_headers_limit(c, HTTP_MAX_HEADERS);
    htp_config_set_response_decompression(c, 1);
    htp_config_set_request_decompression(c, 1);
    htp_config_set_response_decompression_layer_limit(c, HTTP_DECOMPRESS_LAYERS);
    htp_config_set_parse_request_auth(c, 0);   /* neither is used here */
    htp_config_set_parse_request_cookies(c, 0);
    htp_config_set_tx_auto_destroy(c, 0);
    htp_config_set_log_level(c, HTP_LOG_WARNING);

    htp_config_register_log(c, on_log);
    htp_config_register_request_start(c, on_request_start);
    htp_config_register_request_line(c, on_request_line);
    htp_config_register_request_header_data(c, on_request_header_data);
    htp_config_register_request_headers(c, on_request_headers);
    htp_config_register_request_body_data(c, on_request_body_data);
    htp_config_register_request_complete(c, on_request_complete);
    htp_config_register_response_start(c, on_response_start);
    htp_config_register_response_header_data(c, on_response_header_data);
    htp_config_register_response_headers(c, on_response_headers);
    htp_config_register_response_body_data(c, on_response_body_data);
    htp_config_register_response_complete(c, on_response_complete);
    shared_cfg = c;
}

/* ===========================================================================
 * Connections
 * ========================================================================= */

struct http_state *http_state_new(const struct http_config *cfg, const struct timeval *ts)
{
    pthread_once(&shared_once, shared_cfg_build);
    if (shared_cfg == NULL)
        return NULL;
    struct http_state *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    if (cfg != NULL) {
        s->cfg = *cfg;
    } else {
        s->cfg.request_body_limit = HTTP_DEFAULT_BODY_LIMIT;
        s->cfg.response_body_limit = HTTP_DEFAULT_BODY_LIMIT;
    }
    s->connp = htp_connp_create(shared_cfg);
    if (s->connp == NULL) {
        free(s);
        return NULL;
    }
    htp_connp_set_user_data(s->connp, s);
    struct timeval t = { 0, 0 };
    if (ts != NULL)
        t = *ts;
    htp_connp_open(s->connp, NULL, 0, NULL, 0, &t);
    return s;
}

/* libhtp keeps its log entries for the life of the connection; they have
 * been turned into events already. */
static void drain_messages(struct http_state *s)
{
    htp_conn_t *conn = htp_connp_get_connection(s->connp);
    if (conn == NULL || conn->messages == NULL || htp_list_size(conn->messages) == 0)
        return;
    htp_connp_clear_error(s->connp);
    for (size_t i = 0, n = htp_list_size(conn->messages); i < n; i++) {
        htp_log_t *l = htp_list_get(conn->messages, i);
        if (l != NULL) {
            free((void *)l->msg);
            free(l);
        }
    }
    htp_list_clear(conn->messages);
}

static bool can_destroy(const struct http_state *s, const htp_tx_t *h)
{
    return h->request_progress == HTP_REQUEST_COMPLETE &&
           h->response_progress == HTP_RESPONSE_COMPLETE &&
           h != htp_connp_get_in_tx(s->connp) && h != htp_connp_get_out_tx(s->connp);
}

static void sweep_zombies(struct http_state *s)
{
    unsigned k = 0;
    for (unsigned i = 0; i < s->nzombies; i++) {
        if (can_destroy(s, s->zombies[i]))
            htp_tx_destroy(s->zombies[i]);
        else
            s->zombies[k++] = s->zombies[i];
    }
    s->nzombies = k;
}

static void retire(struct http_state *s, htp_tx_t *h)
{
    htp_tx_set_user_data(h, NULL);
    if (can_destroy(s, h)) {
        htp_tx_destroy(h);
        return;
    }
    if (s->nzombies == s->zcap) {
        unsigned cap = s->zcap ? s->zcap * 2 : 4;
        htp_tx_t **p = realloc(s->zombies, cap * sizeof *p);
        if (p == NULL)
            return; /* htp_connp_destroy_all() will have it */
        s->zombies = p;
        s->zcap = cap;
    }
    s->zombies[s->nzombies++] = h;
}

/* Parsing is over for the connection: what was seen is all there is. */
static void finish_all(struct http_state *s)
{
    for (unsigned i = 0; i < s->ntx; i++)
        s->txs[i]->progress |=
            HTTP_REQ_HEADERS | HTTP_REQ_DONE | HTTP_RESP_HEADERS | HTTP_RESP_DONE;
    buf_free(&s->pending[0]);
    buf_free(&s->pending[1]);
}

static void fail(struct http_state *s)
{
    s->failed = true;
    finish_all(s);
}

/* One libhtp call; returns the bytes consumed. */
static size_t parse(struct http_state *s, int dir, const uint8_t *d, size_t n,
                    const struct timeval *ts)
{
    unsigned raised = s->raised;
    s->dir = dir;
    int rc = dir == 0 ? htp_connp_req_data(s->connp, ts, d, n)
                      : htp_connp_res_data(s->connp, ts, d, n);
    drain_messages(s);
    switch (rc) {
    case HTP_STREAM_DATA_OTHER: {
        size_t used = dir == 0 ? htp_connp_req_data_consumed(s->connp)
                               : htp_connp_res_data_consumed(s->connp);
        return used < n ? used : n;
    }
    case HTP_STREAM_ERROR: {
        htp_tx_t *h = dir == 0 ? htp_connp_get_in_tx(s->connp) : htp_connp_get_out_tx(s->connp);
        struct http_tx *tx = wrapper_of(h);
        if (tx != NULL)
            check_flags(s, tx, dir);
        if (s->raised == raised)
            raise_event(s, tx, dir, HTTP_EV_UNKNOWN_ERROR);
        fail(s);
        return n;
    }
    case HTP_STREAM_TUNNEL:
    case HTP_STREAM_STOP:
    case HTP_STREAM_CLOSED:
        s->done[dir] = true; /* not HTTP any more (CONNECT, Upgrade) */
        buf_free(&s->pending[dir]);
        return n;
    default:
        return n;
    }
}

/* Feeds a side's held bytes; true when libhtp took some. */
static bool feed_pending(struct http_state *s, int dir, const struct timeval *ts)
{
    struct http_buf *p = &s->pending[dir];
    if (p->len == 0 || s->failed || s->done[dir])
        return false;
    size_t used = parse(s, dir, p->data, p->len, ts);
    if (s->failed || s->done[dir] || used == 0)
        return used > 0;
    memmove(p->data, p->data + used, p->len - used);
    p->len -= (uint32_t)used;
    return true;
}

/* Lets each waiting side go on while the other has moved. */
static void pump(struct http_state *s, const struct timeval *ts)
{
    for (unsigned round = 0; round < HTTP_PUMP_ROUNDS && !s->failed; round++) {
        bool moved = feed_pending(s, 0, ts);
        moved |= feed_pending(s, 1, ts);
        if (!moved)
            break;
    }
}

static void hold(struct http_state *s, int dir, const uint8_t *d, size_t n)
{
    if (!buf_add(&s->pending[dir], d, n, HTTP_PENDING_MAX)) {
        /* a side has waited too long for the other: give up on the connection */
        raise_event(s, wrapper_of(dir == 0 ? htp_connp_get_in_tx(s->connp)
                                           : htp_connp_get_out_tx(s->connp)),
                    dir, HTTP_EV_UNKNOWN_ERROR);
        fail(s);
    }
}

void http_feed(struct http_state *s, int dir, const uint8_t *d, uint32_t n,
               const struct timeval *ts, struct app_events *ev)
{
    if (s == NULL || d == NULL || n == 0 || (dir != 0 && dir != 1))
        return;
    if (s->failed || s->closed || s->done[dir])
        return;
    s->ev = ev;
    if (s->pending[dir].len > 0) {
        hold(s, dir, d, n);
    } else {
        size_t used = parse(s, dir, d, n, ts);
        if (used < n && !s->failed && !s->done[dir])
            hold(s, dir, d + used, n - used);
    }
    pump(s, ts);
    sweep_zombies(s);
    s->ev = NULL;
}

void http_close(struct http_state *s, const struct timeval *ts)
{
    if (s == NULL || s->closed)
        return;
    s->closed = true;
    if (!s->failed) {
        pump(s, ts);
        s->dir = 1; /* closing mostly ends response bodies read to the end */
        htp_connp_close(s->connp, ts);
        drain_messages(s);
    }
    finish_all(s);
    sweep_zombies(s);
}

void http_state_free(struct http_state *s)
{
    if (s == NULL)
        return;
    for (unsigned i = 0; i < s->ntx; i++) {
        htp_tx_set_user_data(s->txs[i]->htp, NULL);
        tx_free(s->txs[i]);
    }
    free(s->txs);
    free(s->zombies);
    buf_free(&s->pending[0]);
    buf_free(&s->pending[1]);
    htp_connp_destroy_all(s->connp);
    free(s);
}

unsigned http_tx_count(const struct http_state *s)
{
    return s != NULL ? s->ntx : 0;
}

struct http_tx *http_tx_at(const struct http_state *s, unsigned i)
{
    return s != NULL && i < s->ntx ? s->txs[i] : NULL;
}

uint64_t http_tx_id(const struct http_tx *tx)
{
    return tx->id;
}

unsigned http_tx_progress(const struct http_tx *tx)
{
    return tx->progress;
}

const struct app_events *http_tx_events(const struct http_tx *tx)
{
    return &tx->events;
}

void http_tx_release(struct http_state *s, unsigned i)
{
    if (s == NULL)
        return;
    if (i > s->ntx)
        i = s->ntx;
    for (unsigned k = 0; k < i; k++) {
        htp_tx_t *h = s->txs[k]->htp;
        tx_free(s->txs[k]);
        retire(s, h);
    }
    memmove(s->txs, s->txs + i, (s->ntx - i) * sizeof *s->txs);
    s->ntx -= i;
}

/* ===========================================================================
 * Buffers
 * ========================================================================= */

static const htp_table_t *headers_of(const htp_tx_t *h, int dir)
{
    return dir == 0 ? h->request_headers : h->response_headers;
}

static const bstr *header_value(const htp_tx_t *h, int dir, const char *name)
{
    const htp_table_t *t = headers_of(h, dir);
    const htp_header_t *hd = t != NULL ? htp_table_get_c(t, name) : NULL;
    return hd != NULL ? hd->value : NULL;
}

static bool headers_done(const struct http_tx *tx, int dir)
{
    return tx->progress & (dir == 0 ? HTTP_REQ_HEADERS : HTTP_RESP_HEADERS);
}

/* Normalized path (libhtp's) and the query, percent-decoded once. */
static bool build_uri(struct http_tx *tx, struct http_buf *b)
{
    const htp_uri_t *u = tx->htp->parsed_uri;
    if (u == NULL || (u->path == NULL && u->query == NULL))
        return false;
    buf_add_bstr(b, u->path, HTTP_HEADER_BLOCK_MAX);
    if (u->query != NULL) {
        bstr *q = bstr_dup(u->query);
        if (q == NULL)
            return false;
        uint64_t flags = 0;
        htp_urldecode_inplace(tx->htp->cfg, HTP_DECODER_URL_PATH, q, &flags);
        buf_add(b, "?", 1, HTTP_HEADER_BLOCK_MAX);
        buf_add_bstr(b, q, HTTP_HEADER_BLOCK_MAX);
        bstr_free(q);
    }
    return true;
}

static bool build_host(struct http_tx *tx, struct http_buf *b)
{
    const bstr *host = tx->htp->request_hostname;
    if (host == NULL || !buf_add_bstr(b, host, HTTP_HEADER_BLOCK_MAX))
        return false;
    for (uint32_t i = 0; i < b->len; i++)
        if (b->data[i] >= 'A' && b->data[i] <= 'Z')
            b->data[i] = (uint8_t)(b->data[i] - 'A' + 'a');
    return true;
}

/* "Name: value\r\n" per header, without the cookies. */
static bool build_header(struct http_tx *tx, int dir, struct http_buf *b)
{
    const htp_table_t *t = headers_of(tx->htp, dir);
    const char *skip = dir == 0 ? "cookie" : "set-cookie";
    for (size_t i = 0, n = t != NULL ? htp_table_size(t) : 0; i < n; i++) {
        const htp_header_t *h = htp_table_get_index(t, i, NULL);
        if (h == NULL || bstr_cmp_c_nocase(h->name, skip) == 0)
            continue;
        buf_add_bstr(b, h->name, HTTP_HEADER_BLOCK_MAX);
        buf_add(b, ": ", 2, HTTP_HEADER_BLOCK_MAX);
        buf_add_bstr(b, h->value, HTTP_HEADER_BLOCK_MAX);
        buf_add(b, "\r\n", 2, HTTP_HEADER_BLOCK_MAX);
    }
    return true;
}

/* "\r\nName1\r\nName2\r\n\r\n", as Suricata's http.header_names. */
static bool build_header_names(struct http_tx *tx, int dir, struct http_buf *b)
{
    const htp_table_t *t = headers_of(tx->htp, dir);
    buf_add(b, "\r\n", 2, HTTP_HEADER_BLOCK_MAX);
    for (size_t i = 0, n = t != NULL ? htp_table_size(t) : 0; i < n; i++) {
        const htp_header_t *h = htp_table_get_index(t, i, NULL);
        if (h == NULL)
            continue;
        buf_add_bstr(b, h->name, HTTP_HEADER_BLOCK_MAX);
        buf_add(b, "\r\n", 2, HTTP_HEADER_BLOCK_MAX);
    }
    buf_add(b, "\r\n", 2, HTTP_HEADER_BLOCK_MAX);
    return true;
}

/* The request (status) line and the header block as received. */
static bool build_start(struct http_tx *tx, int dir, struct http_buf *b)
{
    const bstr *line = dir == 0 ? tx->htp->request_line : tx->htp->response_line;
    if (line == NULL)
        return false;
    const struct http_buf *raw = &tx->raw_hdr[dir];
    buf_add_bstr(b, line, HTTP_HEADER_BLOCK_MAX);
    buf_add(b, "\r\n", 2, HTTP_HEADER_BLOCK_MAX);
    buf_add(b, raw->data, raw->len, HTTP_HEADER_BLOCK_MAX);
    return true;
}

static bool built(struct http_tx *tx, int kind, int dir, const uint8_t **data, uint32_t *len)
{
    struct http_buf *b = &tx->built[kind][dir];
    if (!tx->built_done[kind][dir]) {
        /* A header-derived buffer is final once its side's headers are
         * parsed; the URI is as soon as the request line is. */
        bool of_request = kind == BUILT_URI || kind == BUILT_HOST;
        bool final = headers_done(tx, of_request ? 0 : dir);
        if (!final && !of_request)
            return false;
        bool ok = false;
        switch (kind) {
        case BUILT_URI: ok = build_uri(tx, b); break;
        case BUILT_HOST: ok = build_host(tx, b); break;
        case BUILT_HEADER: ok = build_header(tx, dir, b); break;
        case BUILT_HEADER_NAMES: ok = build_header_names(tx, dir, b); break;
        case BUILT_START: ok = build_start(tx, dir, b); break;
        default: break;
        }
        if (!ok) {
            b->len = 0; /* absent */
            if (!final)
                return false; /* may come with the headers */
        }
        tx->built_done[kind][dir] = true;
    }
    if (b->len == 0)
        return false;
    *data = b->data;
    *len = b->len;
    return true;
}

static bool give(const struct http_buf *b, const uint8_t **data, uint32_t *len)
{
    if (b->len == 0)
        return false;
    *data = b->data;
    *len = b->len;
    return true;
}

bool http_tx_buffer(const struct http_tx *ctx, int buf, int dir, const uint8_t **data,
                    uint32_t *len)
{
    /* buffers are built on first use: the transaction is ours, not const */
    struct http_tx *tx = (struct http_tx *)ctx;
    if (tx == NULL || tx->htp == NULL || (dir != 0 && dir != 1))
        return false;
    const htp_tx_t *h = tx->htp;
    const bstr *b = NULL;
    switch (buf) {
    case BUF_HTTP_URI: return built(tx, BUILT_URI, 0, data, len);
    case BUF_HTTP_URI_RAW: b = h->request_uri; break;
    case BUF_HTTP_METHOD: b = h->request_method; break;
    case BUF_HTTP_HOST: return built(tx, BUILT_HOST, 0, data, len);
    case BUF_HTTP_HOST_RAW:
        b = header_value(h, 0, "host");
        if (b == NULL && h->parsed_uri_raw != NULL)
            b = h->parsed_uri_raw->hostname;
        break;
    case BUF_HTTP_HEADER: return built(tx, BUILT_HEADER, dir, data, len);
    case BUF_HTTP_HEADER_NAMES: return built(tx, BUILT_HEADER_NAMES, dir, data, len);
    case BUF_HTTP_START: return built(tx, BUILT_START, dir, data, len);
    case BUF_HTTP_HEADER_RAW:
        return headers_done(tx, dir) && give(&tx->raw_hdr[dir], data, len);
    case BUF_HTTP_REQUEST_BODY: return give(&tx->body[0], data, len);
    case BUF_HTTP_RESPONSE_BODY:
    case BUF_FILE_DATA: return give(&tx->body[1], data, len);
    case BUF_HTTP_USER_AGENT: b = header_value(h, 0, "user-agent"); break;
    case BUF_HTTP_COOKIE: b = dir == 0 ? header_value(h, 0, "cookie")
                                       : header_value(h, 1, "set-cookie"); break;
    case BUF_HTTP_STAT_CODE: b = h->response_status; break;
    case BUF_HTTP_STAT_MSG: b = h->response_message; break;
    case BUF_HTTP_CONTENT_TYPE: b = header_value(h, dir, "content-type"); break;
    case BUF_HTTP_CONTENT_LEN: b = header_value(h, dir, "content-length"); break;
    case BUF_HTTP_PROTOCOL: b = dir == 0 ? h->request_protocol : h->response_protocol; break;
    case BUF_HTTP_REQUEST_LINE: b = h->request_line; break;
    case BUF_HTTP_RESPONSE_LINE: b = h->response_line; break;
    case BUF_HTTP_REFERER: b = header_value(h, 0, "referer"); break;
    case BUF_HTTP_ACCEPT: b = header_value(h, 0, "accept"); break;
    case BUF_HTTP_ACCEPT_ENC: b = header_value(h, 0, "accept-encoding"); break;
    case BUF_HTTP_ACCEPT_LANG: b = header_value(h, 0, "accept-language"); break;
    case BUF_HTTP_CONNECTION: b = header_value(h, dir, "connection"); break;
    case BUF_HTTP_LOCATION: b = header_value(h, 1, "location"); break;
    case BUF_HTTP_SERVER: b = header_value(h, 1, "server"); break;
    default: return false;
    }
    if (b == NULL)
        return false;
    *data = bstr_ptr(b);
    *len = bstr_len(b) > UINT32_MAX ? UINT32_MAX : (uint32_t)bstr_len(b);
    return true;
}

/* ===========================================================================
 * EVE
 * ========================================================================= */

/* A JSON string of bytes from the wire: UTF-8 as is, other bytes as \xNN. */
static json_t *json_bytes(const void *d, size_t n)
{
    json_t *j = json_stringn(d, n);
    if (j != NULL)
        return j;
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = d;
    char *out = malloc(n * 4 + 1);
    if (out == NULL)
        return json_string("");
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x80) {
            out[o++] = (char)p[i];
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[p[i] >> 4];
            out[o++] = hex[p[i] & 15];
        }
    }
    j = json_stringn(out, o);
    free(out);
    return j != NULL ? j : json_string("");
}

static void set_bstr(json_t *o, const char *key, const bstr *b)
{
    if (b != NULL)
        json_object_set_new(o, key, json_bytes(bstr_ptr(b), bstr_len(b)));
}

static json_t *headers_array(const htp_table_t *t)
{
    json_t *a = json_array();
    for (size_t i = 0, n = t != NULL ? htp_table_size(t) : 0; i < n; i++) {
        const htp_header_t *h = htp_table_get_index(t, i, NULL);
        if (h == NULL)
            continue;
        json_t *e = json_object();
        set_bstr(e, "name", h->name);
        set_bstr(e, "value", h->value);
        json_array_append_new(a, e);
    }
    return a;
}

json_t *http_tx_eve(const struct http_state *s, const struct http_tx *tx)
{
    json_t *o = json_object();
    if (tx == NULL || tx->htp == NULL)
        return o;
    const htp_tx_t *h = tx->htp;
    set_bstr(o, "hostname", h->request_hostname);
    if (h->request_port_number > 0)
        json_object_set_new(o, "http_port", json_integer(h->request_port_number));
    set_bstr(o, "url", h->request_uri);
    set_bstr(o, "http_user_agent", header_value(h, 0, "user-agent"));
    set_bstr(o, "xff", header_value(h, 0, "x-forwarded-for"));
    const bstr *ct = header_value(h, 1, "content-type");
    if (ct != NULL) {
        const uint8_t *semi = memchr(bstr_ptr(ct), ';', bstr_len(ct));
        size_t n = semi != NULL ? (size_t)(semi - bstr_ptr(ct)) : bstr_len(ct);
        json_object_set_new(o, "http_content_type", json_bytes(bstr_ptr(ct), n));
    }
    set_bstr(o, "http_refer", header_value(h, 0, "referer"));
    set_bstr(o, "http_method", h->request_method);
    set_bstr(o, "protocol", h->request_protocol);
    if (h->response_status_number >= 100 && h->response_status_number <= 999)
        json_object_set_new(o, "status", json_integer(h->response_status_number));
    else
        set_bstr(o, "status_string", h->response_status);
    set_bstr(o, "redirect", header_value(h, 1, "location"));
    json_object_set_new(o, "length", json_integer(h->response_message_len));
    if (s != NULL && s->cfg.log_headers) {
        if (h->request_headers != NULL && htp_table_size(h->request_headers) > 0)
            json_object_set_new(o, "request_headers", headers_array(h->request_headers));
        if (h->response_headers != NULL && htp_table_size(h->response_headers) > 0)
            json_object_set_new(o, "response_headers", headers_array(h->response_headers));
    }
    return o;
}

/* ===========================================================================
 * Protocol detection
 * ========================================================================= */

static const char *const probe_methods[] = {
    "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "TRACE", "PATCH",
    "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "REPORT",
    "CHECKOUT", "UNCHECKOUT", "CHECKIN", "MERGE", "MKACTIVITY", "MKWORKSPACE", "UPDATE",
    "LABEL", "VERSION-CONTROL", "BASELINE-CONTROL", "ACL", "SUBSCRIBE", "UNSUBSCRIBE",
    "NOTIFY", "POLL",
};

/* Whether the bytes start with word (any case), then a space when sp. */
static bool starts_with(const uint8_t *d, uint32_t n, const char *word, bool sp)
{
    size_t wl = strlen(word);
    struct cursor c = cursor_make(d, n);
    if (!cursor_has(&c, wl + (sp ? 1 : 0)))
        return false;
    if (strncasecmp((const char *)cursor_ptr(&c), word, wl) != 0)
        return false;
    cursor_skip(&c, wl);
    return !sp || cursor_u8(&c) == ' ';
}

bool http_probe_request(const uint8_t *d, uint32_t n)
{
    if (d == NULL)
        return false;
    for (size_t i = 0; i < sizeof probe_methods / sizeof probe_methods[0]; i++)
        if (starts_with(d, n, probe_methods[i], true))
            return true;
    return false;
}

bool http_probe_response(const uint8_t *d, uint32_t n)
{
    return d != NULL && starts_with(d, n, "HTTP/1.", false);
}
