/* Inspection buffer names: sticky buffer names, their aliases, legacy modifiers. */
#include <string.h>
#include <strings.h>

#include "detect/detect_int.h"

static const struct {
    const char *name;
    const char *legacy;
    enum app_proto app;
} buffers[BUF_COUNT] = {
#define X(id, name, legacy, app) { name, legacy, APP_##app },
#include "detect/buffers.def"
#undef X
};

/* Older and alternative spellings of the sticky buffer names. */
static const struct {
    const char *alias;
    int buf;
} aliases[] = {
    { "file_data", BUF_FILE_DATA },
    { "http_request_body", BUF_HTTP_REQUEST_BODY },
    { "http_response_body", BUF_HTTP_RESPONSE_BODY },
    { "http_header_names", BUF_HTTP_HEADER_NAMES },
    { "http_content_type", BUF_HTTP_CONTENT_TYPE },
    { "http_content_len", BUF_HTTP_CONTENT_LEN },
    { "http_protocol", BUF_HTTP_PROTOCOL },
    { "http_request_line", BUF_HTTP_REQUEST_LINE },
    { "http_response_line", BUF_HTTP_RESPONSE_LINE },
    { "http_start", BUF_HTTP_START },
    { "http_referer", BUF_HTTP_REFERER },
    { "http_accept", BUF_HTTP_ACCEPT },
    { "http_accept_enc", BUF_HTTP_ACCEPT_ENC },
    { "http_accept_lang", BUF_HTTP_ACCEPT_LANG },
    { "http_connection", BUF_HTTP_CONNECTION },
    { "http_location", BUF_HTTP_LOCATION },
    { "http_server", BUF_HTTP_SERVER },
    { "dns_query", BUF_DNS_QUERY },
    { "tls_sni", BUF_TLS_SNI },
    { "tls_cert_subject", BUF_TLS_CERT_SUBJECT },
    { "tls_cert_issuer", BUF_TLS_CERT_ISSUER },
    { "tls_cert_serial", BUF_TLS_CERT_SERIAL },
    { "tls_cert_fingerprint", BUF_TLS_CERT_FINGERPRINT },
    { "ja3_hash", BUF_JA3_HASH },
    { "ja3_string", BUF_JA3_STRING },
    { "ja3s_hash", BUF_JA3S_HASH },
    { "ja3s_string", BUF_JA3S_STRING },
};

int buffer_lookup(const char *name)
{
    for (int i = 0; i < BUF_COUNT; i++)
        if (strcasecmp(buffers[i].name, name) == 0)
            return i;
    for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++)
        if (strcasecmp(aliases[i].alias, name) == 0)
            return aliases[i].buf;
    return -1;
}

int buffer_lookup_modifier(const char *name)
{
    for (int i = 0; i < BUF_COUNT; i++)
        if (buffers[i].legacy && strcasecmp(buffers[i].legacy, name) == 0)
            return i;
    return -1;
}

const char *buffer_name(int buf)
{
    return buf >= 0 && buf < BUF_COUNT ? buffers[buf].name : "unknown";
}

enum app_proto buffer_app(int buf)
{
    return buf >= 0 && buf < BUF_COUNT ? buffers[buf].app : APP_NONE;
}
