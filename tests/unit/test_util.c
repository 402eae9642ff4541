/* Unit tests for src/util: cursor, hash, timefmt, ring. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "util/cursor.h"
#include "util/hash.h"
#include "util/ring.h"
#include "util/timefmt.h"

/* ---------------------------------------------------------------------------
 * cursor.h
 * ------------------------------------------------------------------------- */

static const uint8_t bytes8[8] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };

static void test_cursor_make_is_empty_and_ok(void **state)
{
    (void)state;
    struct cursor c = cursor_make(bytes8, sizeof bytes8);
    assert_false(c.failed);
    assert_int_equal(cursor_remaining(&c), 8);
    assert_true(cursor_has(&c, 8));
    assert_false(cursor_has(&c, 9));
    assert_ptr_equal(cursor_ptr(&c), bytes8);
}

static void test_cursor_u8_reads_to_bound_then_fails(void **state)
{
    (void)state;
    struct cursor c = cursor_make(bytes8, 2);
    assert_int_equal(cursor_u8(&c), 0x01);
    assert_int_equal(cursor_u8(&c), 0x02);
    assert_false(c.failed);
    assert_int_equal(cursor_remaining(&c), 0);
    assert_int_equal(cursor_u8(&c), 0);
    assert_true(c.failed);
}

static void test_cursor_u16be_at_and_past_bound(void **state)
{
    (void)state;
    struct cursor c = cursor_make(bytes8, 3);
    assert_int_equal(cursor_u16be(&c), 0x0102);
    assert_false(c.failed);
    /* one byte left: a 2-byte read fails and consumes nothing */
    assert_int_equal(cursor_u16be(&c), 0);
    assert_true(c.failed);
    assert_int_equal(c.off, 2);
}

static void test_cursor_u16le_at_and_past_bound(void **state)
{
    (void)state;
    struct cursor c = cursor_make(bytes8, 2);
    assert_int_equal(cursor_u16le(&c), 0x0201);
    assert_false(c.failed);
    assert_int_equal(cursor_u16le(&c), 0);
    assert_true(c.failed);
}

static void test_cursor_u32be_at_and_past_bound(void **state)
{
    (void)state;
    struct cursor c = cursor_make(bytes8, 7);
    assert_int_equal(cursor_u32be(&c), 0x01020304u);
    assert_false(c.failed);
    assert_int_equal(cursor_u32be(&c), 0); /* 3 left */
    assert_true(c.failed);
    assert_int_equal(c.off, 4);
}

static void test_cursor_u32le_at_and_past_bound(void **state)
{
    (void)state;
    struct cursor c = cursor_make(bytes8, 4);
    assert_int_equal(cursor_u32le(&c), 0x04030201u);
    assert_false(c.failed);
    assert_int_equal(cursor_u32le(&c), 0);
    assert_true(c.failed);
}

static void test_cursor_u32_high_bit_is_not_sign_extended(void **state)
{
    (void)state;
    static const uint8_t ff[4] = { 0xff, 0xfe, 0xfd, 0xfc };
    struct cursor c = cursor_make(ff, 4);
    assert_int_equal(cursor_u32be(&c), 0xfffefdfcu);
    c = cursor_make(ff, 4);
    assert_int_equal(cursor_u32le(&c), 0xfcfdfeffu);
    c = cursor_make(ff, 2);
    assert_int_equal(cursor_u16be(&c), 0xfffe);
}

static void test_cursor_skip_exact_and_past(void **state)
{
    (void)state;
    struct cursor c = cursor_make(bytes8, 8);
    assert_true(cursor_skip(&c, 0));
    assert_true(cursor_skip(&c, 8));
    assert_int_equal(cursor_remaining(&c), 0);
    assert_false(c.failed);
    assert_false(cursor_skip(&c, 1));
    assert_true(c.failed);

    c = cursor_make(bytes8, 8);
    assert_false(cursor_skip(&c, 9));
    assert_true(c.failed);
    assert_int_equal(c.off, 0);
}

static void test_cursor_skip_huge_does_not_wrap(void **state)
{
    (void)state;
    struct cursor c = cursor_make(bytes8, 8);
    cursor_u8(&c);
    assert_false(cursor_skip(&c, SIZE_MAX));
    assert_true(c.failed);
}

static void test_cursor_copy_at_and_past_bound(void **state)
{
    (void)state;
    uint8_t out[8] = { 0 };
    struct cursor c = cursor_make(bytes8, 8);
    assert_true(cursor_copy(&c, out, 5));
    assert_memory_equal(out, bytes8, 5);
    memset(out, 0xaa, sizeof out);
    assert_false(cursor_copy(&c, out, 4)); /* 3 left */
    assert_true(c.failed);
    for (size_t i = 0; i < sizeof out; i++)
        assert_int_equal(out[i], 0xaa); /* nothing copied */
}

static void test_cursor_failure_is_sticky(void **state)
{
    (void)state;
    struct cursor c = cursor_make(bytes8, 4);
    assert_int_equal(cursor_u32be(&c), 0x01020304u);
    cursor_u8(&c);
    assert_true(c.failed);
    /* Once failed, every read fails even if it would fit a fresh cursor. */
    c.off = 0;
    assert_int_equal(cursor_remaining(&c), 0);
    assert_false(cursor_has(&c, 0));
    assert_false(cursor_has(&c, 1));
    assert_int_equal(cursor_u8(&c), 0);
    assert_int_equal(cursor_u16be(&c), 0);
    assert_int_equal(cursor_u32le(&c), 0);
    assert_false(cursor_skip(&c, 0));
    assert_true(c.failed);
}

static void test_cursor_empty_buffer(void **state)
{
    (void)state;
    struct cursor c = cursor_make(NULL, 0);
    assert_int_equal(cursor_remaining(&c), 0);
    assert_true(cursor_has(&c, 0));
    assert_int_equal(cursor_u8(&c), 0);
    assert_true(c.failed);
}

static void test_cursor_sub_takes_n_bytes_and_advances(void **state)
{
    (void)state;
    struct cursor c = cursor_make(bytes8, 8);
    cursor_u8(&c);
    struct cursor s = cursor_sub(&c, 3);
    assert_false(s.failed);
    assert_false(c.failed);
    assert_int_equal(cursor_remaining(&s), 3);
    assert_int_equal(cursor_remaining(&c), 4);
    assert_int_equal(cursor_u8(&s), 0x02);
    assert_int_equal(cursor_u16be(&s), 0x0304);
    /* The sub-cursor is bounded by its own length, not the parent's. */
    assert_int_equal(cursor_u8(&s), 0);
    assert_true(s.failed);
    assert_false(c.failed);
    assert_int_equal(cursor_u8(&c), 0x05);
}

static void test_cursor_sub_past_bound_fails_both(void **state)
{
    (void)state;
    struct cursor c = cursor_make(bytes8, 8);
    cursor_skip(&c, 6);
    struct cursor s = cursor_sub(&c, 3);
    assert_true(s.failed);
    assert_true(c.failed);
    assert_int_equal(cursor_remaining(&s), 0);
    assert_int_equal(cursor_u8(&s), 0);
}

static void test_cursor_sub_exact_remaining(void **state)
{
    (void)state;
    struct cursor c = cursor_make(bytes8, 8);
    struct cursor s = cursor_sub(&c, 8);
    assert_false(s.failed);
    assert_int_equal(cursor_remaining(&c), 0);
    assert_int_equal(cursor_u32be(&s), 0x01020304u);
    assert_int_equal(cursor_u32be(&s), 0x05060708u);
    assert_false(s.failed);
}

/* ---------------------------------------------------------------------------
 * hash.c
 * ------------------------------------------------------------------------- */

static void test_hash_is_deterministic(void **state)
{
    (void)state;
    const char *s = "the quick brown fox jumps over the lazy dog";
    assert_int_equal(hash_bytes(s, strlen(s), 7), hash_bytes(s, strlen(s), 7));
    char copy[64];
    strcpy(copy, s);
    assert_int_equal(hash_bytes(copy, strlen(copy), 7), hash_bytes(s, strlen(s), 7));
}

static void test_hash_seed_changes_value(void **state)
{
    (void)state;
    const char *s = "10.0.0.1:1234 -> 10.0.0.2:80";
    assert_int_not_equal(hash_bytes(s, strlen(s), 1), hash_bytes(s, strlen(s), 2));
    assert_int_not_equal(hash_bytes("", 0, 1), hash_bytes("", 0, 2));
}

static void test_hash_depends_on_every_byte_and_length(void **state)
{
    (void)state;
    uint8_t buf[37];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)i;
    uint64_t base = hash_bytes(buf, sizeof buf, 0);
    for (size_t i = 0; i < sizeof buf; i++) {
        buf[i] ^= 0x01;
        assert_int_not_equal(hash_bytes(buf, sizeof buf, 0), base);
        buf[i] ^= 0x01;
    }
    /* Trailing zero bytes must not collide with the shorter string. */
    uint8_t z[16] = { 0 };
    for (size_t n = 0; n < sizeof z; n++)
        assert_int_not_equal(hash_bytes(z, n, 0), hash_bytes(z, n + 1, 0));
}

static void test_hash_reads_unaligned_input(void **state)
{
    (void)state;
    uint8_t buf[40];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 7);
    uint8_t shifted[41];
    memcpy(shifted + 1, buf, sizeof buf);
    assert_int_equal(hash_bytes(buf, sizeof buf, 3), hash_bytes(shifted + 1, sizeof buf, 3));
}

static void test_hash_mix64_spreads_bits(void **state)
{
    (void)state;
    assert_int_equal(hash_mix64(0), 0);
    assert_int_not_equal(hash_mix64(1), hash_mix64(2));
    /* one input bit flips about half the output bits */
    int bits = __builtin_popcountll(hash_mix64(1) ^ hash_mix64(3));
    assert_in_range(bits, 16, 48);
}

/* ---------------------------------------------------------------------------
 * timefmt.c
 * ------------------------------------------------------------------------- */

static char *saved_tz;

static int tz_save(void **state)
{
    (void)state;
    const char *tz = getenv("TZ");
    saved_tz = tz ? strdup(tz) : NULL;
    return 0;
}

static int tz_restore(void **state)
{
    (void)state;
    if (saved_tz) {
        setenv("TZ", saved_tz, 1);
        free(saved_tz);
        saved_tz = NULL;
    } else {
        unsetenv("TZ");
    }
    tzset();
    return 0;
}

static void use_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

static void test_timefmt_utc(void **state)
{
    (void)state;
    use_tz("UTC");
    struct timeval tv = { .tv_sec = 1714564800, .tv_usec = 123456 };
    char buf[TIMEFMT_LEN];
    assert_ptr_equal(timefmt_eve(&tv, buf, sizeof buf), buf);
    assert_string_equal(buf, "2024-05-01T12:00:00.123456+0000");
}

static void test_timefmt_pads_microseconds(void **state)
{
    (void)state;
    use_tz("UTC");
    struct timeval tv = { .tv_sec = 0, .tv_usec = 7 };
    char buf[TIMEFMT_LEN];
    timefmt_eve(&tv, buf, sizeof buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.000007+0000");
}

static void test_timefmt_positive_offset(void **state)
{
    (void)state;
    /* POSIX TZ: the sign is inverted, this is UTC+2. */
    use_tz("CEST-2");
    /* Each zone gets a second of its own: the formatter caches per second. */
    struct timeval tv = { .tv_sec = 1714564810, .tv_usec = 5 };
    char buf[TIMEFMT_LEN];
    timefmt_eve(&tv, buf, sizeof buf);
    assert_string_equal(buf, "2024-05-01T14:00:10.000005+0200");
}

static void test_timefmt_negative_half_hour_offset(void **state)
{
    (void)state;
    use_tz("NST+3:30");
    struct timeval tv = { .tv_sec = 1714564820, .tv_usec = 999999 };
    char buf[TIMEFMT_LEN];
    timefmt_eve(&tv, buf, sizeof buf);
    assert_string_equal(buf, "2024-05-01T08:30:20.999999-0330");
}

static void test_timefmt_crosses_date_line(void **state)
{
    (void)state;
    use_tz("LINT-14");
    struct timeval tv = { .tv_sec = 1714564830, .tv_usec = 0 };
    char buf[TIMEFMT_LEN];
    timefmt_eve(&tv, buf, sizeof buf);
    assert_string_equal(buf, "2024-05-02T02:00:30.000000+1400");
}

static void test_timefmt_truncates_to_buffer(void **state)
{
    (void)state;
    use_tz("UTC");
    struct timeval tv = { .tv_sec = 1714564800, .tv_usec = 123456 };
    char buf[11];
    memset(buf, 'x', sizeof buf);
    timefmt_eve(&tv, buf, sizeof buf);
    assert_string_equal(buf, "2024-05-01");
}

static void test_timeval_usec(void **state)
{
    (void)state;
    struct timeval tv = { .tv_sec = 1714564800, .tv_usec = 123456 };
    assert_int_equal(timeval_usec(&tv), 1714564800123456ull);
}

/* ---------------------------------------------------------------------------
 * ring.c
 * ------------------------------------------------------------------------- */

static void put_record(struct ring *r, const void *d, size_t n)
{
    void *w = ring_reserve(r, n);
    assert_non_null(w);
    memcpy(w, d, n);
    ring_commit(r);
}

static void test_ring_empty_peek_returns_null(void **state)
{
    (void)state;
    struct ring r;
    assert_int_equal(ring_init(&r, 4096), 0);
    size_t n = 99;
    assert_null(ring_peek(&r, &n));
    ring_free(&r);
}

static void test_ring_size_rounds_up_to_power_of_two(void **state)
{
    (void)state;
    struct ring r;
    assert_int_equal(ring_init(&r, 5000), 0);
    assert_int_equal(r.size, 8192);
    ring_free(&r);
    assert_int_equal(ring_init(&r, 1), 0);
    assert_int_equal(r.size, 4096);
    ring_free(&r);
}

static void test_ring_records_come_out_in_order(void **state)
{
    (void)state;
    struct ring r;
    assert_int_equal(ring_init(&r, 4096), 0);
    const char *msgs[] = { "one", "two!", "three", "", "four and more" };
    for (size_t i = 0; i < 5; i++)
        put_record(&r, msgs[i], strlen(msgs[i]));
    for (size_t i = 0; i < 5; i++) {
        size_t n = 0;
        const void *d = ring_peek(&r, &n);
        assert_non_null(d);
        assert_int_equal(n, strlen(msgs[i]));
        assert_memory_equal(d, msgs[i], n);
        /* peek without release returns the same record */
        size_t n2 = 0;
        assert_ptr_equal(ring_peek(&r, &n2), d);
        assert_int_equal(n2, n);
        ring_release(&r);
    }
    size_t n;
    assert_null(ring_peek(&r, &n));
    ring_free(&r);
}

static void test_ring_uncommitted_record_is_invisible(void **state)
{
    (void)state;
    struct ring r;
    assert_int_equal(ring_init(&r, 4096), 0);
    void *w = ring_reserve(&r, 10);
    memset(w, 1, 10);
    size_t n;
    assert_null(ring_peek(&r, &n));
    ring_commit(&r);
    assert_non_null(ring_peek(&r, &n));
    assert_int_equal(n, 10);
    ring_free(&r);
}

/* Fills a record whose content depends on its sequence number. */
static size_t make_record(uint32_t seq, uint8_t *buf, size_t max)
{
    size_t n = 4 + (hash_mix64(seq + 1) % (max - 4));
    memcpy(buf, &seq, 4);
    for (size_t i = 4; i < n; i++)
        buf[i] = (uint8_t)(seq * 31 + i);
    return n;
}

static void check_record(uint32_t seq, const void *d, size_t n, size_t max)
{
    uint8_t want[2048];
    size_t wn = make_record(seq, want, max);
    assert_int_equal(n, wn);
    assert_memory_equal(d, want, n);
}

static void test_ring_wraps_with_variable_sizes(void **state)
{
    (void)state;
    struct ring r;
    assert_int_equal(ring_init(&r, 4096), 0);
    /* Single thread: keep at most a few records in flight so the ring
     * never blocks, and go round it many times at odd offsets. */
    uint8_t buf[1000];
    uint32_t wseq = 0, rseq = 0;
    unsigned wraps_seen = 0;
    size_t last_pos = 0;
    while (rseq < 5000) {
        while (wseq - rseq < 3) {
            size_t n = make_record(wseq++, buf, 700);
            put_record(&r, buf, n);
        }
        size_t n = 0;
        const uint8_t *d = ring_peek(&r, &n);
        assert_non_null(d);
        size_t pos = (size_t)(d - r.buf);
        if (pos < last_pos)
            wraps_seen++;
        last_pos = pos;
        assert_true(pos + n <= r.size); /* a record never straddles the end */
        check_record(rseq++, d, n, 700);
        ring_release(&r);
        ring_flush_release(&r);
    }
    assert_true(wraps_seen > 100);
    while (rseq < wseq) {
        size_t n = 0;
        const uint8_t *d = ring_peek(&r, &n);
        assert_non_null(d);
        check_record(rseq++, d, n, 700);
        ring_release(&r);
    }
    size_t n;
    assert_null(ring_peek(&r, &n));
    ring_free(&r);
}

static void test_ring_record_filling_exactly_to_end(void **state)
{
    (void)state;
    struct ring r;
    assert_int_equal(ring_init(&r, 4096), 0);
    /* 8-byte header + 2040 bytes = half the ring: two records end exactly at the end. */
    static uint8_t a[2040], b[2040], c[100];
    memset(a, 'a', sizeof a);
    memset(b, 'b', sizeof b);
    memset(c, 'c', sizeof c);
    put_record(&r, a, sizeof a);
    put_record(&r, b, sizeof b);
    size_t n;
    const uint8_t *d = ring_peek(&r, &n);
    assert_int_equal(n, sizeof a);
    assert_memory_equal(d, a, n);
    ring_release(&r);
    ring_flush_release(&r);
    put_record(&r, c, sizeof c); /* lands at offset 0 */
    d = ring_peek(&r, &n);
    assert_memory_equal(d, b, sizeof b);
    ring_release(&r);
    d = ring_peek(&r, &n);
    assert_int_equal(n, sizeof c);
    assert_ptr_equal(d, r.buf + 8);
    assert_memory_equal(d, c, n);
    ring_release(&r);
    ring_flush_release(&r);
    assert_null(ring_peek(&r, &n));
    ring_free(&r);
}

#define RING_RECORDS 200000u
#define RING_MAX_REC 1500u

struct ring_thread_arg {
    struct ring *r;
    uint64_t sum;
};

static uint64_t record_sum(const uint8_t *d, size_t n)
{
    return hash_bytes(d, n, n);
}

static void *ring_producer(void *arg)
{
    struct ring_thread_arg *a = arg;
    uint8_t buf[RING_MAX_REC];
    for (uint32_t seq = 0; seq < RING_RECORDS; seq++) {
        size_t n = make_record(seq, buf, RING_MAX_REC);
        void *w = ring_reserve(a->r, n);
        memcpy(w, buf, n);
        ring_commit(a->r);
        a->sum += record_sum(buf, n);
    }
    return NULL;
}

struct ring_consumer_result {
    uint64_t sum;
    uint32_t count;
    uint32_t out_of_order;
};

static void test_ring_two_threads_move_records_intact(void **state)
{
    (void)state;
    struct ring r;
    assert_int_equal(ring_init(&r, 64 * 1024), 0);
    struct ring_thread_arg prod = { &r, 0 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, ring_producer, &prod), 0);

    struct ring_consumer_result res = { 0, 0, 0 };
    unsigned spins = 0;
    while (res.count < RING_RECORDS) {
        size_t n = 0;
        const uint8_t *d = ring_peek(&r, &n);
        if (d == NULL) {
            ring_flush_release(&r);
            ring_wait(&spins);
            continue;
        }
        spins = 0;
        uint32_t seq;
        memcpy(&seq, d, 4);
        if (seq != res.count)
            res.out_of_order++;
        res.sum += record_sum(d, n);
        res.count++;
        ring_release(&r);
    }
    ring_flush_release(&r);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(res.count, RING_RECORDS);
    assert_int_equal(res.out_of_order, 0);
    assert_int_equal(res.sum, prod.sum);
    size_t n;
    assert_null(ring_peek(&r, &n));
    ring_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cursor_make_is_empty_and_ok),
        cmocka_unit_test(test_cursor_u8_reads_to_bound_then_fails),
        cmocka_unit_test(test_cursor_u16be_at_and_past_bound),
        cmocka_unit_test(test_cursor_u16le_at_and_past_bound),
        cmocka_unit_test(test_cursor_u32be_at_and_past_bound),
        cmocka_unit_test(test_cursor_u32le_at_and_past_bound),
        cmocka_unit_test(test_cursor_u32_high_bit_is_not_sign_extended),
        cmocka_unit_test(test_cursor_skip_exact_and_past),
        cmocka_unit_test(test_cursor_skip_huge_does_not_wrap),
        cmocka_unit_test(test_cursor_copy_at_and_past_bound),
        cmocka_unit_test(test_cursor_failure_is_sticky),
        cmocka_unit_test(test_cursor_empty_buffer),
        cmocka_unit_test(test_cursor_sub_takes_n_bytes_and_advances),
        cmocka_unit_test(test_cursor_sub_past_bound_fails_both),
        cmocka_unit_test(test_cursor_sub_exact_remaining),

        cmocka_unit_test(test_hash_is_deterministic),
        cmocka_unit_test(test_hash_seed_changes_value),
        cmocka_unit_test(test_hash_depends_on_every_byte_and_length),
        cmocka_unit_test(test_hash_reads_unaligned_input),
        cmocka_unit_test(test_hash_mix64_spreads_bits),

        cmocka_unit_test_setup_teardown(test_timefmt_utc, tz_save, tz_restore),
        cmocka_unit_test_setup_teardown(test_timefmt_pads_microseconds, tz_save, tz_restore),
        cmocka_unit_test_setup_teardown(test_timefmt_positive_offset, tz_save, tz_restore),
        cmocka_unit_test_setup_teardown(test_timefmt_negative_half_hour_offset, tz_save,
                                        tz_restore),
        cmocka_unit_test_setup_teardown(test_timefmt_crosses_date_line, tz_save, tz_restore),
        cmocka_unit_test_setup_teardown(test_timefmt_truncates_to_buffer, tz_save, tz_restore),
        cmocka_unit_test(test_timeval_usec),

        cmocka_unit_test(test_ring_empty_peek_returns_null),
        cmocka_unit_test(test_ring_size_rounds_up_to_power_of_two),
        cmocka_unit_test(test_ring_records_come_out_in_order),
        cmocka_unit_test(test_ring_uncommitted_record_is_invisible),
        cmocka_unit_test(test_ring_wraps_with_variable_sizes),
        cmocka_unit_test(test_ring_record_filling_exactly_to_end),
        cmocka_unit_test(test_ring_two_threads_move_records_intact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
