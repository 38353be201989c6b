// SPDX-License-Identifier: Apache-2.0
#include "splice.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>

#define SPLICE_READ_CHUNK (16 * 1024)

struct side {
	struct transport *t;
	int fd;
	uint32_t armed;
	bool eof;	   /* read side has ended */
	bool shut;	   /* we have half-closed our writes to it */
	bool gone;	   /* hung up both ways: out of the loop (HUP would repeat) */
	struct buf to;	   /* bytes waiting to be written to this side */
	uint64_t bytes_in; /* bytes read from this side */
};

struct splice {
	struct ev_loop *loop;
	struct side s[2];
	struct ev_timer idle;
	uint32_t idle_ms;
	splice_done_cb *done;
	void *arg;
	bool dead; /* finished: retired, freed at the end of the turn (ev.h) */
	int result;
	struct ev_retiree retiree;
};

/* The retire step: done, then the free. */
static void splice_retired(void *obj)
{
	struct splice *sp = obj;
	if (sp->done)
		sp->done(sp->result, sp->s[0].bytes_in, sp->s[1].bytes_in, sp->arg);
	for (int i = 0; i < 2; i++) {
		if (sp->s[i].t)
			transport_close(sp->s[i].t);
		buf_free(&sp->s[i].to);
	}
	free(sp);
}

static void finish(struct splice *sp, int result)
{
	if (sp->dead)
		return;
	sp->dead = true;
	sp->result = result;
	ev_timer_stop(sp->loop, &sp->idle);
	for (int i = 0; i < 2; i++)
		if (sp->s[i].t && !sp->s[i].gone)
			ev_del(sp->loop, sp->s[i].fd);
	ev_retire(sp->loop, &sp->retiree, splice_retired, sp);
}

static void arm(struct splice *sp)
{
	for (int i = 0; i < 2; i++) {
		struct side *me = &sp->s[i], *peer = &sp->s[!i];
		if (me->gone)
			continue;
		bool rd = !me->eof && peer->to.len < SPLICE_BUF_MAX;
		bool wr = me->to.len > 0;
		uint32_t ev = transport_want(me->t, rd, wr);
		if (ev != me->armed) {
			ev_mod(sp->loop, me->fd, ev);
			me->armed = ev;
		}
	}
}

/* Moves what it can in every direction; returns -errno on failure, 1 when all is done. */
static int pump(struct splice *sp)
{
	bool progress = true;
	for (int round = 0; progress && round < 8; round++) {
		progress = false;
		for (int i = 0; i < 2; i++) {
			struct side *me = &sp->s[i], *peer = &sp->s[!i];
			if (me->shut)
				buf_reset(&me->to); /* it can take nothing more: drop, don't hold */
			/* Write what is queued for me. */
			while (me->to.len) {
				ssize_t n = transport_write(me->t, buf_head(&me->to), me->to.len);
				if (n == -EAGAIN)
					break;
				if (n <= 0)
					return n == 0 ? -EPIPE : (int)n;
				buf_consume(&me->to, (size_t)n);
				progress = true;
			}
			int r = transport_flush(me->t);
			if (r < 0 && r != -EAGAIN)
				return r;
			/* Pass a half-close on once everything before it is written. */
			if (peer->eof && !me->to.len && !me->shut && r == 0) {
				me->shut = true;
				transport_shutdown_write(me->t);
			}
			/* Read from me into the peer's queue, bounded. */
			while (!me->eof && peer->to.len < SPLICE_BUF_MAX) {
				size_t room = SPLICE_BUF_MAX - peer->to.len;
				if (room > SPLICE_READ_CHUNK)
					room = SPLICE_READ_CHUNK;
				if (buf_reserve(&peer->to, room) < 0)
					return -ENOMEM;
				ssize_t n = transport_read(me->t, buf_tail(&peer->to), room);
				if (n == -EAGAIN)
					break;
				if (n < 0)
					return (int)n;
				if (n == 0) {
					me->eof = true;
					progress = true;
					break;
				}
				buf_commit(&peer->to, (size_t)n);
				me->bytes_in += (uint64_t)n;
				progress = true;
			}
		}
	}
	if (sp->s[0].eof && sp->s[1].eof && !sp->s[0].to.len && !sp->s[1].to.len)
		return 1;
	return 0;
}

static void step(struct splice *sp)
{
	int r = pump(sp);
	if (r != 0) {
		finish(sp, r < 0 ? r : 0);
		return;
	}
	if (sp->idle_ms)
		ev_timer_start(sp->loop, &sp->idle, sp->idle_ms);
	arm(sp);
}

static void on_io(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct splice *sp = arg;
	(void)loop;
	if (sp->dead)
		return;
	if (events & EPOLLERR) {
		/* A reset or other socket error: the splice is over. */
		finish(sp, -ECONNRESET);
		return;
	}
	if (events & EPOLLHUP) {
		/* Both directions of this side are closed: nothing more comes from it
		 * and nothing can be written to it. (HUP is reported even with an empty
		 * mask, so leaving it unhandled would spin.) */
		struct side *me = &sp->s[fd == sp->s[1].fd];
		me->eof = true;
		me->shut = true;
		buf_reset(&me->to);
		if (!me->gone) {
			me->gone = true;
			ev_del(sp->loop, me->fd);
		}
	}
	step(sp);
}

static void on_idle(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct splice *sp = arg;
	(void)loop;
	(void)t;
	finish(sp, -ETIMEDOUT);
}

struct splice *splice_start(struct ev_loop *loop, struct http_detached *a, struct http_detached *b,
			    uint32_t idle_ms, splice_done_cb *done, void *arg, struct err *e)
{
	struct splice *sp = calloc(1, sizeof(*sp));
	struct http_detached *d[2] = {a, b};
	int r = -ENOMEM;

	if (!sp)
		goto fail;
	sp->loop = loop;
	sp->idle_ms = idle_ms;
	sp->done = done;
	sp->arg = arg;
	ev_timer_init(&sp->idle, on_idle, sp);
	for (int i = 0; i < 2; i++) {
		struct side *me = &sp->s[i];
		buf_init(&me->to, 0);
		/* Queued output for this side first, then what the other side had read. */
		if (buf_append(&me->to, buf_head(&d[i]->out), d[i]->out.len) < 0 ||
		    buf_append(&me->to, buf_head(&d[!i]->in), d[!i]->in.len) < 0)
			goto fail;
	}
	for (int i = 0; i < 2; i++) {
		sp->s[i].t = d[i]->t;
		sp->s[i].fd = d[i]->t->fd;
		d[i]->t = NULL;
		sp->s[i].armed = EPOLLIN | EPOLLOUT;
	}
	for (int i = 0; i < 2; i++) {
		r = ev_add(loop, sp->s[i].fd, sp->s[i].armed, on_io, sp);
		if (r < 0) {
			err_set(e, -r, "ev_add");
			ev_del(loop, sp->s[0].fd);
			goto fail_owned;
		}
	}
	for (int i = 0; i < 2; i++) {
		buf_free(&d[i]->in);
		buf_free(&d[i]->out);
	}
	if (idle_ms)
		ev_timer_start(loop, &sp->idle, idle_ms);
	return sp;
fail:
	err_set(e, -r, "splice_start");
	for (int i = 0; i < 2; i++) {
		transport_close(d[i]->t);
		d[i]->t = NULL;
	}
fail_owned:
	for (int i = 0; i < 2; i++) {
		buf_free(&d[i]->in);
		buf_free(&d[i]->out);
	}
	if (sp) {
		for (int i = 0; i < 2; i++) {
			if (sp->s[i].t) {
				transport_close(sp->s[i].t);
				sp->s[i].t = NULL;
			}
			buf_free(&sp->s[i].to);
		}
		free(sp);
	}
	return NULL;
}
