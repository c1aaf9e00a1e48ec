/* The lab watch's pure decisions (watch_sched.h). */
#include "watch_sched.h"

#define DEF_STATS_MS 1500
#define DEF_BACKOFF_MIN_MS 500
#define DEF_BACKOFF_MAX_MS 10000

void vl_watch_sched_init(struct vl_watch_sched *s, unsigned stats_ms, unsigned backoff_min_ms,
			 unsigned backoff_max_ms, int64_t now)
{
	*s = (struct vl_watch_sched){
		.stats_ms = stats_ms ? stats_ms : DEF_STATS_MS,
		.backoff_min_ms = backoff_min_ms ? backoff_min_ms : DEF_BACKOFF_MIN_MS,
		.backoff_max_ms = backoff_max_ms ? backoff_max_ms : DEF_BACKOFF_MAX_MS,
	};
	if (s->backoff_max_ms < s->backoff_min_ms)
		s->backoff_max_ms = s->backoff_min_ms;
	vl_watch_sched_connected(s, now);
}

unsigned vl_watch_backoff_ms(const struct vl_watch_sched *s, unsigned failures)
{
	uint64_t ms = s->backoff_min_ms;

	for (unsigned i = 0; i < failures && ms < s->backoff_max_ms; i++)
		ms *= 2;
	return ms > s->backoff_max_ms ? s->backoff_max_ms : (unsigned)ms;
}

static int64_t until(int64_t at, int64_t now)
{
	return at > now ? at - now : 0;
}

enum vl_watch_step vl_watch_sched_next(const struct vl_watch_sched *s, int64_t now,
				       int64_t *wait_ms)
{
	*wait_ms = 0;
	if (!s->connected) {
		if (now >= s->retry_at)
			return VL_WSTEP_RECONNECT;
		*wait_ms = until(s->retry_at, now);
		return VL_WSTEP_WAIT;
	}
	if (s->resync)
		return VL_WSTEP_RESYNC;
	if (now >= s->stats_at)
		return VL_WSTEP_STATS;
	*wait_ms = until(s->stats_at, now);
	return VL_WSTEP_WAIT;
}

void vl_watch_sched_lost(struct vl_watch_sched *s, int64_t now)
{
	s->connected = false;
	s->resync = false;
	s->failures = 0;
	s->retry_at = now + vl_watch_backoff_ms(s, 0);
}

void vl_watch_sched_retry_failed(struct vl_watch_sched *s, int64_t now)
{
	s->failures++;
	s->retry_at = now + vl_watch_backoff_ms(s, s->failures);
}

void vl_watch_sched_connected(struct vl_watch_sched *s, int64_t now)
{
	(void)now;
	s->connected = true;
	s->resync = true;
	s->failures = 0;
}

void vl_watch_sched_done(struct vl_watch_sched *s, enum vl_watch_step step, int64_t now)
{
	if (step == VL_WSTEP_RESYNC) {
		s->resync = false;
		s->stats_at = now;
	} else if (step == VL_WSTEP_STATS) {
		s->stats_at = now + s->stats_ms;
	}
}

double vl_watch_cpu_percent(uint64_t cpu_prev_ns, uint64_t cpu_now_ns, uint64_t elapsed_ns,
			    unsigned vcpus)
{
	double pct;

	if (!elapsed_ns || !vcpus || cpu_now_ns < cpu_prev_ns)
		return -1;
	pct = 100.0 * (double)(cpu_now_ns - cpu_prev_ns) / ((double)elapsed_ns * vcpus);
	return pct > 100.0 ? 100.0 : pct;
}

uint64_t vl_watch_mem_used_kib(uint64_t current_kib, uint64_t rss_kib, uint64_t available_kib,
			       uint64_t unused_kib)
{
	if (available_kib && unused_kib <= available_kib && unused_kib)
		return available_kib - unused_kib;
	if (rss_kib)
		return rss_kib;
	return current_kib;
}
