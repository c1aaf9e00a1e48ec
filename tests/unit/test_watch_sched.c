/* Unit tests for src/watch_sched: the lab watch's pure decisions. A real
 * connection loss needs a real daemon (test:///default cannot lose one), so
 * the reconnect path is proven here, as a schedule: the backoff, that a
 * reconnect is always followed by a full resync before any stats, and the
 * numbers of a stats sample. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "watch_sched.h"

/* 0.5 s doubling to 10 s, and the cap holds however long the outage. */
static void test_backoff(void **state)
{
	static const unsigned want[] = { 500, 1000, 2000, 4000, 8000, 10000, 10000 };
	struct vl_watch_sched s;
	(void)state;

	vl_watch_sched_init(&s, 0, 0, 0, 0);
	assert_int_equal(s.stats_ms, 1500);
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(vl_watch_backoff_ms(&s, i), want[i]);
	assert_int_equal(vl_watch_backoff_ms(&s, 1000), 10000);   /* no overflow */
	vl_watch_sched_init(&s, 200, 100, 350, 0);
	assert_int_equal(vl_watch_backoff_ms(&s, 0), 100);
	assert_int_equal(vl_watch_backoff_ms(&s, 1), 200);
	assert_int_equal(vl_watch_backoff_ms(&s, 2), 350);
	vl_watch_sched_init(&s, 0, 800, 300, 0);    /* a cap below the start: the start */
	assert_int_equal(vl_watch_backoff_ms(&s, 3), 800);
}

/* A whole outage, step by step: start (resync first), stats on the period,
 * loss, retries at 0.5, 1, 2 s after each failure, reconnect, a full resync
 * before any stats, then stats again. */
static void test_schedule(void **state)
{
	struct vl_watch_sched s;
	int64_t wait, t = 1000;
	(void)state;

	vl_watch_sched_init(&s, 1000, 0, 0, t);
	assert_int_equal(vl_watch_sched_next(&s, t, &wait), VL_WSTEP_RESYNC);
	vl_watch_sched_done(&s, VL_WSTEP_RESYNC, t);
	/* the first sample right after the resync, then one a period */
	assert_int_equal(vl_watch_sched_next(&s, t, &wait), VL_WSTEP_STATS);
	vl_watch_sched_done(&s, VL_WSTEP_STATS, t);
	assert_int_equal(vl_watch_sched_next(&s, t + 400, &wait), VL_WSTEP_WAIT);
	assert_int_equal(wait, 600);
	assert_int_equal(vl_watch_sched_next(&s, t + 1000, &wait), VL_WSTEP_STATS);
	vl_watch_sched_done(&s, VL_WSTEP_STATS, t + 1000);

	/* lost at t = 1500: no stats, no resync while down; retry at 2000 */
	t = 1500;
	vl_watch_sched_lost(&s, t);
	assert_int_equal(vl_watch_sched_next(&s, t, &wait), VL_WSTEP_WAIT);
	assert_int_equal(wait, 500);
	t = 2000;
	assert_int_equal(vl_watch_sched_next(&s, t, &wait), VL_WSTEP_RECONNECT);
	vl_watch_sched_retry_failed(&s, t);          /* next in 1 s */
	assert_int_equal(vl_watch_sched_next(&s, t + 999, &wait), VL_WSTEP_WAIT);
	assert_int_equal(wait, 1);
	t += 1000;
	assert_int_equal(vl_watch_sched_next(&s, t, &wait), VL_WSTEP_RECONNECT);
	vl_watch_sched_retry_failed(&s, t);          /* next in 2 s */
	assert_int_equal(vl_watch_sched_next(&s, t + 1999, &wait), VL_WSTEP_WAIT);
	assert_int_equal(wait, 1);
	t += 2000;
	assert_int_equal(vl_watch_sched_next(&s, t, &wait), VL_WSTEP_RECONNECT);

	/* back: the full resync comes first, even with a sample overdue */
	vl_watch_sched_connected(&s, t);
	assert_int_equal(s.failures, 0);
	assert_int_equal(vl_watch_sched_next(&s, t + 60000, &wait), VL_WSTEP_RESYNC);
	vl_watch_sched_done(&s, VL_WSTEP_RESYNC, t);
	assert_int_equal(vl_watch_sched_next(&s, t, &wait), VL_WSTEP_STATS);

	/* a second loss starts the backoff over at 0.5 s */
	vl_watch_sched_lost(&s, t);
	assert_int_equal(vl_watch_sched_next(&s, t, &wait), VL_WSTEP_WAIT);
	assert_int_equal(wait, 500);
}

static void test_cpu_percent(void **state)
{
	(void)state;
	/* 0.5 s of CPU in 1 s on 1 vCPU; on 2 vCPUs; all of 2 */
	assert_float_equal(vl_watch_cpu_percent(0, 500000000, 1000000000, 1), 50.0, 1e-9);
	assert_float_equal(vl_watch_cpu_percent(1000, 1000 + 500000000, 1000000000, 2), 25.0,
			   1e-9);
	assert_float_equal(vl_watch_cpu_percent(0, 2000000000, 1000000000, 2), 100.0, 1e-9);
	/* rounding of the clocks never gives more than 100 */
	assert_float_equal(vl_watch_cpu_percent(0, 1000000100, 1000000000, 1), 100.0, 1e-9);
	/* unknown: nothing elapsed, no vCPUs, the counter went back (restart) */
	assert_true(vl_watch_cpu_percent(0, 5, 0, 1) < 0);
	assert_true(vl_watch_cpu_percent(0, 5, 10, 0) < 0);
	assert_true(vl_watch_cpu_percent(900, 5, 10, 1) < 0);
}

static void test_mem_used(void **state)
{
	(void)state;
	/* the guest's view first, then the host's, then the balloon */
	assert_int_equal(vl_watch_mem_used_kib(1048576, 300000, 1000000, 600000), 400000);
	assert_int_equal(vl_watch_mem_used_kib(1048576, 300000, 0, 0), 300000);
	assert_int_equal(vl_watch_mem_used_kib(1048576, 300000, 1000000, 0), 300000);
	assert_int_equal(vl_watch_mem_used_kib(1048576, 0, 0, 0), 1048576);
	assert_int_equal(vl_watch_mem_used_kib(0, 0, 0, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_cpu_percent),
		cmocka_unit_test(test_mem_used),
	};
	return cmocka_run_group_tests_name("watch_sched", tests, NULL, NULL);
}
