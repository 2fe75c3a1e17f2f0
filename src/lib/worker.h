/* SPDX-License-Identifier: MIT */
/*
 * worker.h: a fixed pool of threads that run blocking work (store calls
 * that fsync) away from the libevent loop, and hand each job's completion
 * back to the loop thread.
 *
 * Every front-end (LMTP, IMAP, POP3, ...) submits jobs to the one pool of
 * the daemon. A job has two halves:
 *   run(context)   runs on a worker thread; may block on the disk. It must
 *                  not touch loop-thread state (bufferevents, connection
 *                  lists) and must not call libevent on the loop's base.
 *   done(context)  runs later on the loop thread, from the event loop,
 *                  once run() has returned. It may write replies, submit
 *                  more jobs and free context. It must not block.
 * Jobs start in submission order (FIFO); with more than one thread they
 * may finish in any order, so a caller that needs order waits for one
 * job's done() before it submits the next, or counts them.
 *
 * The wake-up from worker to loop is an eventfd watched by the loop, so
 * the pool does not depend on libevent's own cross-thread locking.
 */
#ifndef WORKER_H
#define WORKER_H

#include "lib.h"

struct event_base;
struct worker_pool;

typedef void worker_run_cb_t(void *context);
typedef void worker_done_cb_t(void *context);

/* Default and upper bound of the thread count. */
#define WORKER_THREADS_DEFAULT 8
#define WORKER_THREADS_MAX 256

/*
 * Starts `threads` worker threads (1..WORKER_THREADS_MAX) whose
 * completions are delivered on base's loop. Worker threads block every
 * signal, so signals reach the loop thread. Returns NULL after logging
 * when a thread or the eventfd cannot be created.
 */
struct worker_pool *worker_pool_create(struct event_base *base,
				       unsigned int threads);

/*
 * Queues a job (see the top of this file). Loop thread only. done may be
 * NULL. Never blocks (the queue is unbounded: callers bound their own
 * in-flight work, e.g. one delivery batch per connection).
 */
void worker_pool_submit(struct worker_pool *pool, worker_run_cb_t *run,
			worker_done_cb_t *done, void *context);

/* Jobs submitted whose done() has not run yet (queued, running or
   finished but not yet dispatched). Loop thread only. */
unsigned int worker_pool_pending(struct worker_pool *pool);

/* Number of threads. */
unsigned int worker_pool_threads(struct worker_pool *pool);

/*
 * Waits until every submitted job has run, calls the remaining done()
 * callbacks on the calling (loop) thread, joins the threads and frees the
 * pool. May block as long as the slowest queued job: callers that cannot
 * wait must not call it (the daemon exits without it after its shutdown
 * deadline). Accepts NULL.
 */
void worker_pool_destroy(struct worker_pool **pool);

#endif
