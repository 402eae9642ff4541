/*
 * libFuzzer target for the DNS parser.
 *
 * The whole input is one message: it is probed (as UDP and as TCP),
 * parsed, logged as EVE (and serialized) and read through every getter
 * and buffer. Then the same bytes are fed to the TCP framer, split where
 * the first byte says, and each framed message is parsed in turn.
 *
 * Messages are parsed from a heap copy of exactly their size, so ASan
 * sees any read past the end; the buffers' bytes are all touched, so it
 * also sees any that point outside the message's memory.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/dns.h"
#include "detect/detect_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void touch_buffers(const struct dns_msg *m, int buf)
{
    const uint8_t *d;
    uint32_t len;
    volatile uint8_t sink = 0;
    for (unsigned i = 0; dns_msg_buffer(m, buf, i, &d, &len); i++) {
        if (len > 255)
            abort(); /* names are kept to 255 bytes */
        for (uint32_t k = 0; k < len; k++)
            sink ^= d[k];
    }
    (void)sink;
}

static void check_events(const struct app_events *ev)
{
    if (ev->n > APP_MAX_EVENTS)
        abort();
    for (unsigned i = 0; i < ev->n; i++) {
        if (ev->code[i] >= DNS_EV_COUNT)
            abort();
        (void)dns_event_name(ev->code[i]);
    }
}

static void parse_one(const uint8_t *d, uint32_t n)
{
    uint8_t *copy = malloc(n ? n : 1);
    if (copy == NULL)
        return;
    memcpy(copy, d, n);
    struct app_events ev = { 0 };
    struct dns_msg *m = dns_parse(copy, n, &ev);
    check_events(&ev);
    if (m != NULL) {
        char buf[16];
        (void)dns_msg_is_response(m);
        (void)dns_msg_id(m);
        if (dns_msg_opcode(m) > 15 || dns_msg_rcode(m) > 15)
            abort();
        (void)dns_rcode_name(dns_msg_rcode(m), buf, sizeof buf);
        (void)dns_msg_has_rrtype(m, n >= 2 ? (uint16_t)(d[0] << 8 | d[1]) : 1);
        touch_buffers(m, BUF_DNS_QUERY);
        touch_buffers(m, BUF_DNS_ANSWER_NAME);
        json_t *eve = dns_msg_eve(m);
        if (eve != NULL) {
            char *s = json_dumps(eve, JSON_COMPACT);
            free(s);
            json_decref(eve);
        }
        dns_msg_free(m);
    }
    free(copy);
}

static void on_message(void *ctx, const uint8_t *msg, uint32_t len)
{
    unsigned *count = ctx;
    (*count)++;
    parse_one(msg, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2 + 65535 + 65535)
        return 0;
    uint32_t n = (uint32_t)size;
    (void)dns_probe(data, n, false);
    (void)dns_probe(data, n, true);
    parse_one(data, n);

    /* TCP: two calls, split at a point chosen by the first byte */
    uint32_t cut = n ? (uint32_t)(((uint64_t)data[0] * n) / 255) : 0;
    struct dns_tcp_buf b = { 0 };
    struct app_events ev = { 0 };
    unsigned count = 0, got = 0;
    got += dns_tcp_feed(&b, data, cut, on_message, &count, &ev);
    got += dns_tcp_feed(&b, data + cut, n - cut, on_message, &count, &ev);
    if (got != count || b.len > 2 + 65535 || b.cap > 2 + 65535)
        abort();
    check_events(&ev);
    dns_tcp_buf_free(&b);
    return 0;
}
