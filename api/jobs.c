// SPDX-License-Identifier: Apache-2.0
/* A mutex-protected queue in, a second queue out, and an eventfd to wake the loop. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "jobs.h"

struct job {
	struct job *next;
	jobs_fn *work, *done;
	void *arg;
};

struct jobs {
	struct ev_loop *loop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *in_head, *in_tail, *out_head, *out_tail;
	size_t pending; /* queued + running + finished but not yet done() */
	bool stopping;
	int efd;
	size_t nthreads;
	pthread_t *threads;
};

static void *worker(void *arg)
{
	struct jobs *j = arg;
	pthread_mutex_lock(&j->mu);
	for (;;) {
		while (!j->in_head && !j->stopping)
			pthread_cond_wait(&j->cv, &j->mu);
		struct job *jb = j->in_head;
		if (!jb)
			break;
		j->in_head = jb->next;
		if (!j->in_head)
			j->in_tail = NULL;
		pthread_mutex_unlock(&j->mu);
		jb->work(jb->arg);
		pthread_mutex_lock(&j->mu);
		jb->next = NULL;
		if (j->out_tail)
			j->out_tail->next = jb;
		else
			j->out_head = jb;
		j->out_tail = jb;
		uint64_t one = 1;
		ssize_t w = write(j->efd, &one, sizeof(one));
		(void)w;
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

static void run_done(struct jobs *j)
{
	pthread_mutex_lock(&j->mu);
	struct job *list = j->out_head;
	j->out_head = j->out_tail = NULL;
	pthread_mutex_unlock(&j->mu);
	while (list) {
		struct job *jb = list;
		list = jb->next;
		if (jb->done)
			jb->done(jb->arg);
		pthread_mutex_lock(&j->mu);
		j->pending--;
		pthread_mutex_unlock(&j->mu);
		free(jb);
	}
}

static void on_event(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop;
	(void)events;
	uint64_t v;
	ssize_t r = read(fd, &v, sizeof(v));
	(void)r;
	run_done(arg);
}

struct jobs *jobs_new(struct ev_loop *loop, size_t n, struct err *e)
{
	struct jobs *j = calloc(1, sizeof(*j));
	if (!j || !(j->threads = calloc(n, sizeof(pthread_t)))) {
		free(j);
		err_set(e, ENOMEM, "jobs");
		return NULL;
	}
	j->loop = loop;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	j->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (j->efd < 0 || ev_add(loop, j->efd, EPOLLIN, on_event, j) < 0) {
		err_set(e, errno, "eventfd");
		goto fail;
	}
	/* Workers block every signal: the loop's signalfd gets them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; j->nthreads < n; j->nthreads++) {
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setstacksize(&at, 256 * 1024);
		int r = pthread_create(&j->threads[j->nthreads], &at, worker, j);
		pthread_attr_destroy(&at);
		if (r) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			err_set(e, r, "pthread_create");
			goto fail;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return j;
fail:
	jobs_free(j);
	return NULL;
}

int jobs_submit(struct jobs *j, jobs_fn *work, jobs_fn *done, void *arg)
{
	struct job *jb = calloc(1, sizeof(*jb));
	if (!jb)
		return -ENOMEM;
	jb->work = work;
	jb->done = done;
	jb->arg = arg;
	pthread_mutex_lock(&j->mu);
	if (j->in_tail)
		j->in_tail->next = jb;
	else
		j->in_head = jb;
	j->in_tail = jb;
	j->pending++;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
	return 0;
}

void jobs_free(struct jobs *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->mu);
	j->stopping = true;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	for (size_t i = 0; i < j->nthreads; i++)
		pthread_join(j->threads[i], NULL);
	/* A done() may queue more work (a create that ends by deleting what it
	 * made): with the workers gone it runs here, so none is left undone. */
	for (;;) {
		run_done(j);
		pthread_mutex_lock(&j->mu);
		struct job *jb = j->in_head;
		if (jb) {
			j->in_head = jb->next;
			if (!j->in_head)
				j->in_tail = NULL;
		}
		pthread_mutex_unlock(&j->mu);
		if (!jb)
			break;
		jb->work(jb->arg);
		jb->next = NULL;
		j->out_head = j->out_tail = jb;
	}
	if (j->efd >= 0) {
		ev_del(j->loop, j->efd);
		close(j->efd);
	}
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
	free(j->threads);
	free(j);
}
