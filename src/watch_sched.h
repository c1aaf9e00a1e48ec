/* The lab watch's decisions, as pure code (lab_watch.c acts on them): what
 * to do next (reconnect, resync, sample stats, or wait how long), the
 * reconnect backoff, and the numbers of a stats sample. No clock is read
 * here: every function takes "now" in monotonic milliseconds. */
#ifndef VL_WATCH_SCHED_H
#define VL_WATCH_SCHED_H

#include <stdbool.h>
#include <stdint.h>

struct vl_watch_sched {
	unsigned stats_ms;                       /* sampling period */
	unsigned backoff_min_ms, backoff_max_ms; /* first retry delay, cap */
	bool connected;
	bool resync;         /* connected, and the state not yet read in full */
	unsigned failures;   /* reconnect attempts failed since the loss */
	int64_t retry_at;    /* not connected: next reconnect attempt */
	int64_t stats_at;    /* connected and synced: next sample */
};

enum vl_watch_step {
	VL_WSTEP_WAIT,       /* nothing due: wait for events up to *wait_ms */
	VL_WSTEP_RECONNECT,
	VL_WSTEP_RESYNC,     /* read every lab's state (after a connect) */
	VL_WSTEP_STATS,
};

/* Connected, with a resync due first (the watch's own start). 0 for a
 * period picks the default (1500 ms stats, 500 ms doubling to 10 s). */
void vl_watch_sched_init(struct vl_watch_sched *s, unsigned stats_ms, unsigned backoff_min_ms,
			 unsigned backoff_max_ms, int64_t now);
/* Delay before reconnect attempt number failures + 1: min doubling per
 * failure, capped at max. */
unsigned vl_watch_backoff_ms(const struct vl_watch_sched *s, unsigned failures);
/* The one thing to do now: a resync before anything once connected, stats
 * only on a synced connection, reconnects only when their time has come.
 * With VL_WSTEP_WAIT, *wait_ms is how long until something is due. */
enum vl_watch_step vl_watch_sched_next(const struct vl_watch_sched *s, int64_t now,
				       int64_t *wait_ms);
/* The connection was lost: first retry after the minimum backoff. */
void vl_watch_sched_lost(struct vl_watch_sched *s, int64_t now);
/* A reconnect attempt failed: the next one waits twice as long. */
void vl_watch_sched_retry_failed(struct vl_watch_sched *s, int64_t now);
/* Reconnected: a full resync is due before anything else. */
void vl_watch_sched_connected(struct vl_watch_sched *s, int64_t now);
/* A resync or a sample was taken: the next sample is due a period on (the
 * first right after a resync). */
void vl_watch_sched_done(struct vl_watch_sched *s, enum vl_watch_step step, int64_t now);

/* CPU use over an interval, in percent of the domain's vCPUs (100: all of
 * them busy the whole time): cpu time used (ns) over elapsed wall time (ns)
 * times vcpus. Negative when unknown: no earlier sample, no time elapsed,
 * no vCPU count, or the counter went back (the domain restarted). */
double vl_watch_cpu_percent(uint64_t cpu_prev_ns, uint64_t cpu_now_ns, uint64_t elapsed_ns,
			    unsigned vcpus);
/* Memory in use in KiB from what the stats gave (0: not given): the guest's
 * own view (available - unused, with a balloon driver that reports it),
 * else what the host process holds (rss), else the current balloon size. */
uint64_t vl_watch_mem_used_kib(uint64_t current_kib, uint64_t rss_kib, uint64_t available_kib,
			       uint64_t unused_kib);

#endif
