/* Unit tests for the NFQUEUE verdict latency histogram (nfq.c): which
 * bucket a latency lands in, and the quantiles read back from it. The
 * queue itself is tested end to end in tests/inline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "capture/nfq.h"

static uint64_t lat[NFQ_LAT_BUCKETS];

static int reset(void **state)
{
    (void)state;
    memset(lat, 0, sizeof lat);
    return 0;
}

/* The quantile is the upper edge of its bucket: at most one bucket (9 %)
 * above the true value, never below it. */
static void assert_near_above(double got, double want)
{
    if (!(got >= want && got <= want * 1.0906 + 1e-9))
        fail_msg("quantile %.3f, expected in [%.3f, %.3f]", got, want, want * 1.0906);
}

static void test_empty_histogram(void **state)
{
    (void)state;
    assert_true(nfq_latency_quantile(lat, 0.5) == 0);
    assert_true(nfq_latency_quantile(lat, 0.99) == 0);
}

static void test_quantiles_of_a_known_spread(void **state)
{
    (void)state;
    /* 98 fast packets, 1 at 95 us, 1 at 2000 us */
    for (int i = 0; i < 98; i++)
        nfq_latency_add(lat, 3.0);
    nfq_latency_add(lat, 95.0);
    nfq_latency_add(lat, 2000.0);
    assert_near_above(nfq_latency_quantile(lat, 0.5), 3.0);
    assert_near_above(nfq_latency_quantile(lat, 0.99), 95.0);
    assert_near_above(nfq_latency_quantile(lat, 1.0), 2000.0);
}

static void test_p99_moves_with_the_slowest_percent(void **state)
{
    (void)state;
    for (int i = 0; i < 980; i++)
        nfq_latency_add(lat, 10.0);
    for (int i = 0; i < 20; i++)
        nfq_latency_add(lat, 150.0);
    /* 2 % are slow: the p99 is theirs, the p97 is not */
    assert_near_above(nfq_latency_quantile(lat, 0.99), 150.0);
    assert_near_above(nfq_latency_quantile(lat, 0.97), 10.0);
}

static void test_extremes_are_clamped(void **state)
{
    (void)state;
    nfq_latency_add(lat, 0.2);   /* under a microsecond: first bucket */
    nfq_latency_add(lat, -5.0);  /* a clock step back: first bucket too */
    nfq_latency_add(lat, 1e9);   /* far too slow: last bucket */
    assert_int_equal(lat[0], 2);
    assert_int_equal(lat[NFQ_LAT_BUCKETS - 1], 1);
    assert_true(nfq_latency_quantile(lat, 1.0) >= 65536.0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, reset, NULL)
    const struct CMUnitTest tests[] = {
        T(test_empty_histogram),
        T(test_quantiles_of_a_known_spread),
        T(test_p99_moves_with_the_slowest_percent),
        T(test_extremes_are_clamped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
