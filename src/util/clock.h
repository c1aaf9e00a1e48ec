/* Monotonic time for timeouts, deadlines and rates (never the wall clock). */
#ifndef VL_UTIL_CLOCK_H
#define VL_UTIL_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in seconds, with nanosecond resolution. */
double vl_now_mono(void);
/* CLOCK_MONOTONIC in whole milliseconds (rounded down). */
int64_t vl_now_mono_ms(void);

#endif
