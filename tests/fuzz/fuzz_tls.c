/*
 * libFuzzer target for the TLS parser.
 *
 * The input is a sequence of chunks, each
 *   header (2 bytes, big-endian): bit 15 direction (0 to server, 1 to
 *   client), bits 0-14 length
 *   data (length bytes, fewer at the end of the input)
 * Every chunk is fed to tls_feed() from a heap copy of exactly its size,
 * so ASan sees any read past it; then every sticky buffer and the EVE
 * object are taken.
 *
 * The same bytes are fed a second time with the chunks of one direction
 * that follow each other joined into one call: record and message
 * reassembly must not depend on where the stream was cut, so both runs
 * must give the same EVE object and progress (unless a run met
 * too_many_records_in_packet, which counts records per call).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "app/tls.h"
#include "detect/detect_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct chunk {
    int dir;
    const uint8_t *p;
    size_t n;
};

#define MAX_CHUNKS 4096

static void feed_copy(struct tls_state *s, int dir, const uint8_t *p, size_t n,
                      struct app_events *ev)
{
    uint8_t *copy = malloc(n ? n : 1);
    if (copy == NULL)
        return;
    memcpy(copy, p, n);
    tls_feed(s, dir, copy, (uint32_t)n, ev);
    free(copy);
}

/* Takes every buffer and checks what can be checked without a reference. */
static void take_buffers(const struct tls_state *s)
{
    for (int buf = 0; buf < BUF_COUNT; buf++) {
        for (unsigned idx = 0; idx < 20; idx++) {
            const uint8_t *d = NULL;
            uint32_t len = 0;
            if (!tls_buffer(s, buf, idx, &d, &len))
                break;
            if (d == NULL)
                abort();
            /* touch every byte so ASan checks the whole extent */
            volatile uint8_t sum = 0;
            for (uint32_t i = 0; i < len; i++)
                sum ^= d[i];
            (void)sum;
        }
    }
}

static char *run(const struct chunk *c, size_t nc, bool join, unsigned *progress, bool *too_many)
{
    struct tls_state *s = tls_state_new();
    if (s == NULL)
        return NULL;
    struct app_events ev = { 0 };
    for (size_t i = 0; i < nc;) {
        size_t j = i + 1;
        const uint8_t *p = c[i].p;
        size_t n = c[i].n;
        uint8_t *joined = NULL;
        if (join) {
            size_t total = n;
            while (j < nc && c[j].dir == c[i].dir)
                total += c[j++].n;
            joined = malloc(total ? total : 1);
            if (joined == NULL)
                break;
            size_t off = 0;
            for (size_t k = i; k < j; k++) {
                memcpy(joined + off, c[k].p, c[k].n);
                off += c[k].n;
            }
            p = joined;
            n = total;
        }
        feed_copy(s, c[i].dir, p, n, &ev);
        free(joined);
        i = j;
    }
    for (unsigned i = 0; i < ev.n; i++) {
        if (tls_event_name(ev.code[i]) == NULL)
            abort();
        if (ev.code[i] == TLS_EV_TOO_MANY_RECORDS_IN_PACKET)
            *too_many = true;
    }
    take_buffers(s);
    (void)tls_version(s);
    *progress = tls_progress(s);
    json_t *j = tls_eve(s);
    char *text = j ? json_dumps(j, JSON_SORT_KEYS) : NULL;
    json_decref(j);
    tls_state_free(s);
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct chunk chunks[MAX_CHUNKS];
    size_t nc = 0, off = 0;
    while (off + 2 <= size && nc < MAX_CHUNKS) {
        unsigned h = (unsigned)data[off] << 8 | data[off + 1];
        off += 2;
        size_t n = h & 0x7fff;
        if (n > size - off)
            n = size - off;
        chunks[nc].dir = (h >> 15) ? APP_TOCLIENT : APP_TOSERVER;
        chunks[nc].p = data + off;
        chunks[nc].n = n;
        nc++;
        off += n;
    }
    (void)tls_probe(data, (uint32_t)size);
    if (nc > 0)
        (void)tls_probe(chunks[0].p, (uint32_t)chunks[0].n);

    unsigned p1 = 0, p2 = 0;
    bool many1 = false, many2 = false;
    char *a = run(chunks, nc, false, &p1, &many1);
    char *b = run(chunks, nc, true, &p2, &many2);
    if (a != NULL && b != NULL && !many1 && !many2 && (strcmp(a, b) != 0 || p1 != p2)) {
        fprintf(stderr, "split and joined feeds differ:\n%s\n%s\n", a, b);
        abort();
    }
    free(a);
    free(b);
    return 0;
}
