/*
 * HTTP/1.x through libhtp: requests and responses from the reassembled
 * streams, pipelining and many transactions per connection, chunked
 * bodies, gzip/deflate decompression (libhtp's, on zlib), body limits.
 */
#ifndef CARACAL_APP_HTTP_H
#define CARACAL_APP_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

#include "app/app.h"

struct http_config {
    uint32_t request_body_limit;   /* bytes of request body kept for inspection */
    uint32_t response_body_limit;  /* of response body (after decompression) */
    bool log_headers;              /* EVE: request_headers / response_headers arrays */
};
#define HTTP_DEFAULT_BODY_LIMIT (100u * 1024)

/* Event codes (http_event_name): libhtp's warnings and errors mapped to
 * Suricata's HTTP event names ("request_field_too_long",
 * "invalid_request_chunk_len", "missing_host_header", ...). */
enum http_event {
    HTTP_EV_UNKNOWN_ERROR,
    HTTP_EV_GZIP_DECOMPRESSION_FAILED,
    HTTP_EV_REQUEST_FIELD_MISSING_COLON,
    HTTP_EV_RESPONSE_FIELD_MISSING_COLON,
    HTTP_EV_INVALID_REQUEST_CHUNK_LEN,
    HTTP_EV_INVALID_RESPONSE_CHUNK_LEN,
    HTTP_EV_INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST,
    HTTP_EV_INVALID_TRANSFER_ENCODING_VALUE_IN_RESPONSE,
    HTTP_EV_INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST,
    HTTP_EV_INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE,
    HTTP_EV_DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST,
    HTTP_EV_DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE,
    HTTP_EV_100_CONTINUE_ALREADY_SEEN,
    HTTP_EV_UNABLE_TO_MATCH_RESPONSE_TO_REQUEST,
    HTTP_EV_INVALID_SERVER_PORT_IN_REQUEST,
    HTTP_EV_INVALID_AUTHORITY_PORT,
    HTTP_EV_REQUEST_HEADER_INVALID,
    HTTP_EV_RESPONSE_HEADER_INVALID,
    HTTP_EV_MISSING_HOST_HEADER,
    HTTP_EV_HOST_HEADER_AMBIGUOUS,
    HTTP_EV_INVALID_REQUEST_FIELD_FOLDING,
    HTTP_EV_INVALID_RESPONSE_FIELD_FOLDING,
    HTTP_EV_REQUEST_FIELD_TOO_LONG,
    HTTP_EV_RESPONSE_FIELD_TOO_LONG,
    HTTP_EV_REQUEST_LINE_INVALID,
    HTTP_EV_METHOD_DELIM_NON_COMPLIANT,
    HTTP_EV_URI_DELIM_NON_COMPLIANT,
    HTTP_EV_REQUEST_LINE_LEADING_WHITESPACE,
    HTTP_EV_TOO_MANY_ENCODING_LAYERS,
    HTTP_EV_COUNT
};
const char *http_event_name(int code);

/* Transaction progress (http_tx_progress). */
#define HTTP_REQ_HEADERS  0x01u  /* request line and headers parsed */
#define HTTP_REQ_DONE     0x02u  /* request complete, body included */
#define HTTP_RESP_HEADERS 0x04u
#define HTTP_RESP_DONE    0x08u

struct http_state;  /* one connection */
struct http_tx;     /* one request/response pair */

struct http_state *http_state_new(const struct http_config *cfg, const struct timeval *ts);
void http_state_free(struct http_state *s);

/* Feeds stream bytes of one direction in order; events of the
 * transactions touched go to ev as well as to the transaction. */
void http_feed(struct http_state *s, int dir, const uint8_t *d, uint32_t n,
               const struct timeval *ts, struct app_events *ev);
/* The connection ended: incomplete transactions are completed as they are. */
void http_close(struct http_state *s, const struct timeval *ts);

/* Transactions still held, oldest first. */
unsigned http_tx_count(const struct http_state *s);
struct http_tx *http_tx_at(const struct http_state *s, unsigned i);
uint64_t http_tx_id(const struct http_tx *tx);      /* 0, 1, ... per connection */
unsigned http_tx_progress(const struct http_tx *tx);
const struct app_events *http_tx_events(const struct http_tx *tx);
/* The caller is done with every transaction before index i (inspected and
 * logged both ways): they are freed. */
void http_tx_release(struct http_state *s, unsigned i);

/*
 * Sticky buffers of a transaction by BUF_* id (every HTTP buffer of
 * detect/buffers.def: BUF_HTTP_URI (normalized), BUF_HTTP_URI_RAW,
 * BUF_HTTP_METHOD, BUF_HTTP_HOST (lowercased), BUF_HTTP_HOST_RAW,
 * BUF_HTTP_HEADER (all request headers "Name: value\r\n" without cookie,
 * or response headers for to_client -- see idx), BUF_HTTP_HEADER_RAW,
 * BUF_HTTP_HEADER_NAMES, BUF_HTTP_USER_AGENT, BUF_HTTP_COOKIE,
 * BUF_HTTP_REQUEST_BODY, BUF_HTTP_RESPONSE_BODY, BUF_FILE_DATA (response
 * body, decompressed), BUF_HTTP_STAT_CODE, BUF_HTTP_STAT_MSG,
 * BUF_HTTP_CONTENT_TYPE, BUF_HTTP_CONTENT_LEN, BUF_HTTP_PROTOCOL,
 * BUF_HTTP_REQUEST_LINE, BUF_HTTP_RESPONSE_LINE, BUF_HTTP_START,
 * BUF_HTTP_REFERER, BUF_HTTP_ACCEPT, BUF_HTTP_ACCEPT_ENC,
 * BUF_HTTP_ACCEPT_LANG, BUF_HTTP_CONNECTION, BUF_HTTP_LOCATION,
 * BUF_HTTP_SERVER). dir picks the side for buffers both sides have
 * (headers, content type/length, protocol). false when absent.
 */
bool http_tx_buffer(const struct http_tx *tx, int buf, int dir, const uint8_t **data,
                    uint32_t *len);

/*
 * The "http" object of an EVE http event (and of alerts on the
 * transaction) in Suricata's shape: hostname, url, http_user_agent,
 * http_content_type, http_method, protocol, status, length, http_refer,
 * xff (when X-Forwarded-For is present), http_port (when the Host header
 * names one); request_headers / response_headers ([{"name","value"}])
 * when cfg.log_headers.
 */
json_t *http_tx_eve(const struct http_state *s, const struct http_tx *tx);

/* Protocol detection: the start of a request line (a known method and a
 * space) or of a status line ("HTTP/1."). */
bool http_probe_request(const uint8_t *d, uint32_t n);
bool http_probe_response(const uint8_t *d, uint32_t n);

#endif
