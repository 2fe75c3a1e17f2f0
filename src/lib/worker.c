/* SPDX-License-Identifier: MIT */
/*
 * worker.c: the worker thread pool (see worker.h); bottom of the DAG
 * (lib).
 *
 * Two FIFO lists under one mutex: `queue` (submitted, not started) and
 * `finished` (run() returned, done() not called yet). A worker that moves
 * a job to an empty `finished` list writes to the eventfd; the loop's
 * read event then takes the whole list at once and calls every done().
 * One eventfd write per burst of completions, not per job, keeps the
 * syscalls down when many deliveries finish together.
 */
#include "worker.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <event2/event.h>

struct worker_job {
	struct worker_job *next;
	worker_run_cb_t *run;
	worker_done_cb_t *done;
	void *context;
};

struct job_list {
	struct worker_job *head;
	struct worker_job **tailp;
};

struct worker_pool {
	struct event_base *base;
	struct event *done_event;
	int efd;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job_list queue;
	struct job_list finished;
	bool stopping;

	pthread_t *threads;
	unsigned int thread_count;
	/* Loop thread only. */
	unsigned int pending;
};

static void
job_list_init(struct job_list *list)
{
	list->head = NULL;
	list->tailp = &list->head;
}

static void
job_list_push(struct job_list *list, struct worker_job *job)
{
	job->next = NULL;
	*list->tailp = job;
	list->tailp = &job->next;
}

static struct worker_job *
job_list_pop(struct job_list *list)
{
	struct worker_job *job = list->head;

	if (job != NULL) {
		list->head = job->next;
		if (list->head == NULL)
			list->tailp = &list->head;
	}
	return job;
}

static void
wake_loop(struct worker_pool *pool)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is saturated: the loop is woken anyway. */
	while (write(pool->efd, &one, sizeof(one)) == -1 && errno == EINTR)
		;
}

static void *
worker_thread(void *arg)
{
	struct worker_pool *pool = arg;
	struct worker_job *job;
	bool was_empty;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		while (pool->queue.head == NULL && !pool->stopping)
			pthread_cond_wait(&pool->cond, &pool->lock);
		job = job_list_pop(&pool->queue);
		if (job == NULL)
			break;
		pthread_mutex_unlock(&pool->lock);

		job->run(job->context);

		pthread_mutex_lock(&pool->lock);
		was_empty = pool->finished.head == NULL;
		job_list_push(&pool->finished, job);
		if (was_empty)
			wake_loop(pool);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

/* Calls done() of every finished job, in the order they finished. */
static void
dispatch_finished(struct worker_pool *pool)
{
	struct job_list list;
	struct worker_job *job;

	pthread_mutex_lock(&pool->lock);
	list = pool->finished;
	if (list.head == NULL)
		list.tailp = &list.head;
	job_list_init(&pool->finished);
	pthread_mutex_unlock(&pool->lock);

	while ((job = job_list_pop(&list)) != NULL) {
		i_assert(pool->pending > 0);
		pool->pending--;
		if (job->done != NULL)
			job->done(job->context);
		free(job);
	}
}

static void
done_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker_pool *pool = arg;
	uint64_t count;

	if (read(fd, &count, sizeof(count)) == -1 && errno != EAGAIN &&
	    errno != EINTR)
		log_warn("worker: read(eventfd)");
	dispatch_finished(pool);
}

static int
start_threads(struct worker_pool *pool, unsigned int threads)
{
	sigset_t all, old;
	int ret;

	/* Threads inherit the mask: block every signal while creating. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pool->threads = i_malloc(sizeof(*pool->threads) * threads);
	for (; pool->thread_count < threads; pool->thread_count++) {
		ret = pthread_create(&pool->threads[pool->thread_count], NULL,
				     worker_thread, pool);
		if (ret != 0) {
			errno = ret;
			log_warn("worker: pthread_create");
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return pool->thread_count == threads ? 0 : -1;
}

struct worker_pool *
worker_pool_create(struct event_base *base, unsigned int threads)
{
	struct worker_pool *pool;

	i_assert(threads >= 1 && threads <= WORKER_THREADS_MAX);
	pool = i_malloc(sizeof(*pool));
	pool->base = base;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->cond, NULL);
	job_list_init(&pool->queue);
	job_list_init(&pool->finished);

	pool->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pool->efd == -1) {
		log_warn("worker: eventfd");
		worker_pool_destroy(&pool);
		return NULL;
	}
	pool->done_event = event_new(base, pool->efd, EV_READ | EV_PERSIST,
				     done_event_cb, pool);
	if (pool->done_event == NULL || event_add(pool->done_event, NULL) != 0) {
		log_warnx("worker: cannot watch the eventfd");
		worker_pool_destroy(&pool);
		return NULL;
	}
	if (start_threads(pool, threads) < 0) {
		worker_pool_destroy(&pool);
		return NULL;
	}
	return pool;
}

void
worker_pool_submit(struct worker_pool *pool, worker_run_cb_t *run,
		   worker_done_cb_t *done, void *context)
{
	struct worker_job *job = i_malloc(sizeof(*job));

	job->run = run;
	job->done = done;
	job->context = context;
	pool->pending++;

	pthread_mutex_lock(&pool->lock);
	i_assert(!pool->stopping);
	job_list_push(&pool->queue, job);
	pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
}

unsigned int
worker_pool_pending(struct worker_pool *pool)
{
	return pool->pending;
}

unsigned int
worker_pool_threads(struct worker_pool *pool)
{
	return pool->thread_count;
}

void
worker_pool_destroy(struct worker_pool **_pool)
{
	struct worker_pool *pool = *_pool;
	unsigned int i;

	if (pool == NULL)
		return;
	*_pool = NULL;

	/* Workers drain the queue before they see `stopping`. */
	pthread_mutex_lock(&pool->lock);
	pool->stopping = true;
	pthread_cond_broadcast(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	for (i = 0; i < pool->thread_count; i++)
		pthread_join(pool->threads[i], NULL);
	/* done() callbacks may submit nothing now (the pool is stopping). */
	dispatch_finished(pool);
	i_assert(pool->pending == 0);

	if (pool->done_event != NULL)
		event_free(pool->done_event);
	if (pool->efd != -1)
		close(pool->efd);
	pthread_cond_destroy(&pool->cond);
	pthread_mutex_destroy(&pool->lock);
	free(pool->threads);
	free(pool);
}
