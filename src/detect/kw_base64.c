/*
 * base64_decode[:bytes N, offset N, relative] decodes part of the current
 * buffer; base64_data (a sticky buffer, kw_sticky.c) then inspects the
 * decoded bytes. inspect.c runs the base64_data list at the point where
 * base64_decode sits in its buffer's list.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "detect/kw_payload.h"

static bool sig_has_base64_decode(const struct sig *s)
{
    for (int b = 0; b < BUF_COUNT; b++)
        for (const struct sm *m = s->lists[b]; m; m = m->next)
            if (m->type == SM_BASE64_DECODE)
                return true;
    return false;
}

int kw_base64_decode_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                           size_t errlen)
{
    static const char *const kw = "base64_decode";
    if (ps->cur_buf == BUF_BASE64_DATA) {
        snprintf(err, errlen, "'%s' can't be used on base64_data", kw);
        return -1;
    }
    if (sig_has_base64_decode(s)) {
        snprintf(err, errlen, "'%s' can be used only once in a rule", kw);
        return -1;
    }
    struct base64_ctx *bc = calloc(1, sizeof *bc);
    char tmp[128];
    if (!bc) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (v && strlen(v) >= sizeof tmp) {
        snprintf(err, errlen, "'%s' value too long", kw);
        goto fail;
    }
    snprintf(tmp, sizeof tmp, "%s", v ? v : "");
    for (char *save = NULL, *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*t))
            t++;
        char *e = t + strlen(t);
        while (e > t && isspace((unsigned char)e[-1]))
            *--e = '\0';
        int64_t n;
        if (*t == '\0')
            continue;
        if (strcmp(t, "relative") == 0) {
            bc->flags |= B64_RELATIVE;
        } else if (strncmp(t, "bytes", 5) == 0 && isspace((unsigned char)t[5])) {
            if (payload_parse_int(kw, t + 6, 1, UINT32_MAX, &n, err, errlen) < 0)
                goto fail;
            bc->bytes = (uint32_t)n;
        } else if (strncmp(t, "offset", 6) == 0 && isspace((unsigned char)t[6])) {
            if (payload_parse_int(kw, t + 7, 0, UINT32_MAX, &n, err, errlen) < 0)
                goto fail;
            bc->offset = (uint32_t)n;
        } else {
            snprintf(err, errlen, "'%s' unknown option '%s'", kw, t);
            goto fail;
        }
    }
    struct sm *m = sm_new(SM_BASE64_DECODE, bc);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    payload_append(s, ps, ps->cur_buf, m);
    return 0;
fail:
    free(bc);
    return -1;
}

static int8_t b64_value(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return (int8_t)(c - 'A');
    if (c >= 'a' && c <= 'z')
        return (int8_t)(c - 'a' + 26);
    if (c >= '0' && c <= '9')
        return (int8_t)(c - '0' + 52);
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

uint32_t base64_decode_buf(const uint8_t *in, uint32_t inlen, uint8_t *out, uint32_t outcap)
{
    uint32_t n = 0, acc = 0;
    unsigned bits = 0;
    for (uint32_t i = 0; i < inlen; i++) {
        uint8_t c = in[i];
        if (c == '\r' || c == '\n' || c == ' ' || c == '\t')
            continue;
        int8_t v = b64_value(c);
        if (v < 0)
            break;   /* '=' padding or the end of the encoded run */
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == outcap)
                break;
            out[n++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return n;
}
