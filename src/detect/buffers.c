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

static const struct {
    const char *alias;
    int buf;
} aliases[] = {
#define A(alias, id, name) { alias, BUF_##id },
#include "detect/buffer_aliases.def"
#undef A
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

int buffer_side(int buf)
{
    switch (buf) {
    case BUF_HTTP_URI: case BUF_HTTP_URI_RAW: case BUF_HTTP_METHOD: case BUF_HTTP_HOST:
    case BUF_HTTP_HOST_RAW: case BUF_HTTP_USER_AGENT: case BUF_HTTP_REQUEST_BODY:
    case BUF_HTTP_REQUEST_LINE: case BUF_HTTP_REFERER: case BUF_HTTP_ACCEPT:
    case BUF_HTTP_ACCEPT_ENC: case BUF_HTTP_ACCEPT_LANG: case BUF_DNS_QUERY: case BUF_TLS_SNI:
    case BUF_JA3_HASH: case BUF_JA3_STRING: case BUF_JA4_HASH:
        return 0;
    case BUF_HTTP_RESPONSE_BODY: case BUF_HTTP_STAT_CODE: case BUF_HTTP_STAT_MSG:
    case BUF_HTTP_RESPONSE_LINE: case BUF_HTTP_LOCATION: case BUF_HTTP_SERVER:
    case BUF_FILE_DATA: case BUF_DNS_ANSWER_NAME: case BUF_TLS_CERT_SUBJECT:
    case BUF_TLS_CERT_ISSUER: case BUF_TLS_CERT_SERIAL: case BUF_TLS_CERT_FINGERPRINT:
    case BUF_TLS_CERTS: case BUF_JA3S_HASH: case BUF_JA3S_STRING:
        return 1;
    default:
        return -1;
    }
}
