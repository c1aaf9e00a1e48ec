/* A tiny thread pool: workers take the next job index under a mutex until
 * none are left. No job is cancelled when another fails: half-made objects
 * are worse than finishing the step each VM is in. */
#include "util/parallel.h"

#include <pthread.h>

#include "util/mem.h"

struct pool {
	pthread_mutex_t lock;
	size_t next, n;
	vl_job_fn fn;
	void *ud;
	struct vl_err *errs;
	int *rcs;
};

static void *worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&p->lock);
		i = p->next++;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->n)
			return NULL;
		vl_err_clear(&p->errs[i]);
		p->rcs[i] = p->fn(p->ud, i, &p->errs[i]);
	}
}

int vl_parallel_run(size_t n, unsigned width, vl_job_fn fn, void *ud, struct vl_err *errs,
		    size_t *first_failed)
{
	struct pool p = { .lock = PTHREAD_MUTEX_INITIALIZER, .n = n, .fn = fn, .ud = ud, .errs = errs };
	VL_AUTOFREE pthread_t *tids = NULL;
	VL_AUTOFREE int *rcs = vl_calloc(n ? n : 1, sizeof(int));
	size_t started = 0;
	int rc = 0;

	p.rcs = rcs;
	if (width == 0)
		width = 1;
	if (width > n)
		width = (unsigned)n;
	tids = vl_calloc(width ? width : 1, sizeof(*tids));
	for (unsigned t = 0; t < width; t++)
		if (pthread_create(&tids[started], NULL, worker, &p) == 0)
			started++;
	if (started == 0)
		worker(&p); /* no threads to be had: do the work here */
	for (size_t t = 0; t < started; t++)
		pthread_join(tids[t], NULL);
	for (size_t i = 0; i < n; i++) {
		if (rcs[i] < 0) {
			if (rc == 0 && first_failed)
				*first_failed = i;
			rc = -1;
		}
	}
	return rc;
}
