/* SPDX-License-Identifier: MIT */
/*
 * test-worker.c: the worker pool runs jobs off the loop thread and calls
 * every done() on the loop thread, exactly once per job.
 */
#include "worker.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#define JOBS 2000

struct state {
	struct event_base *base;
	struct worker_pool *pool;
	pthread_t loop_thread;
	atomic_uint ran;
	unsigned int done;
	unsigned int on_worker;
	bool wrong_thread;
};

struct job {
	struct state *st;
	bool ran_on_worker;
	bool resubmit;
};

static void
job_run(void *context)
{
	struct job *job = context;

	job->ran_on_worker =
		!pthread_equal(pthread_self(), job->st->loop_thread);
	atomic_fetch_add(&job->st->ran, 1);
}

static void
job_done(void *context)
{
	struct job *job = context;
	struct state *st = job->st;

	if (!pthread_equal(pthread_self(), st->loop_thread))
		st->wrong_thread = true;
	if (job->ran_on_worker)
		st->on_worker++;
	if (job->resubmit) {
		/* done() may submit more work. */
		job->resubmit = false;
		worker_pool_submit(st->pool, job_run, job_done, job);
		return;
	}
	free(job);
	if (++st->done == JOBS)
		event_base_loopbreak(st->base);
}

static void
state_init(struct state *st, unsigned int threads)
{
	memset(st, 0, sizeof(*st));
	st->base = event_base_new();
	assert_non_null(st->base);
	st->loop_thread = pthread_self();
	st->pool = worker_pool_create(st->base, threads);
	assert_non_null(st->pool);
	assert_int_equal(worker_pool_threads(st->pool), threads);
}

static void
submit_all(struct state *st, bool resubmit)
{
	unsigned int i;

	for (i = 0; i < JOBS; i++) {
		struct job *job = i_malloc(sizeof(*job));

		job->st = st;
		job->resubmit = resubmit && (i % 2) == 0;
		worker_pool_submit(st->pool, job_run, job_done, job);
	}
}

static void
test_worker_roundtrip(void **unused)
{
	struct state st;
	struct timeval tv = { 30, 0 };

	state_init(&st, 4);
	submit_all(&st, true);
	assert_true(worker_pool_pending(st.pool) > 0);
	event_base_loopexit(st.base, &tv);
	event_base_dispatch(st.base);

	assert_int_equal(st.done, JOBS);
	assert_int_equal(atomic_load(&st.ran), JOBS + JOBS / 2);
	assert_int_equal(st.on_worker, JOBS + JOBS / 2);
	assert_false(st.wrong_thread);
	assert_int_equal(worker_pool_pending(st.pool), 0);
	worker_pool_destroy(&st.pool);
	assert_null(st.pool);
	event_base_free(st.base);
}

static void
test_worker_destroy_drains(void **unused)
{
	struct state st;

	/* destroy() without running the loop: every job still runs and
	   every done() is called, on this thread. */
	state_init(&st, 2);
	submit_all(&st, false);
	worker_pool_destroy(&st.pool);
	assert_int_equal(st.done, JOBS);
	assert_int_equal(atomic_load(&st.ran), JOBS);
	assert_false(st.wrong_thread);
	worker_pool_destroy(&st.pool);
	event_base_free(st.base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worker_roundtrip),
		cmocka_unit_test(test_worker_destroy_drains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
