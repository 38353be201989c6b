/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to http_server*.c: the connection object shared by the request
 * side (http_server.c) and the response side (http_response.c).
 */
#ifndef LIB_HTTP_SERVER_INT_H
#define LIB_HTTP_SERVER_INT_H

#include "http_server.h"

#define HTTP_MAX_HEADER_ARRAY 128

enum conn_state {
	CONN_HEAD,    /* waiting for (the rest of) a request head */
	CONN_BODY,    /* buffering a request body */
	CONN_HANDLER, /* the request is with its handler */
	CONN_CLOSING, /* flushing the last response, then close */
};

/* What the connection's single timer is measuring. */
enum conn_timer {
	TIMER_NONE,
	TIMER_IDLE,  /* keep-alive: no request started */
	TIMER_HEAD,  /* a head has started and must complete */
	TIMER_BODY,  /* gap between request body bytes */
	TIMER_WRITE, /* output queued and not draining */
};

#define HTTP_READ_CHUNK (16 * 1024)

struct route {
	char *method;
	char *pattern;
	http_handler *h;
	void *arg;
	struct http_route_opts opts;
};

struct http_conn {
	struct http_server *srv;
	struct http_conn *prev, *next;
	struct transport *t;
	int fd;
	char peer[64];
	enum conn_state state;
	uint32_t armed;	       /* epoll events currently requested */
	struct ev_timer timer; /* armed to fire no later than `deadline` (see conn_set_timer) */
	enum conn_timer timer_kind;
	uint64_t deadline; /* when timer_kind runs out (ev_now clock) */
	bool dead;	   /* closed: retired, freed at the end of the turn (ev.h) */
	bool kick;	   /* input may be ready for the state machine (a response ended,
			    * body delivery resumed): processed by the loop, not by the caller */
	bool eof;	   /* the client closed its side */
	bool flush_queued; /* on the server's end-of-turn list */
	bool trusted;	   /* a request on it carried a valid credential */
	struct http_conn *next_flush;
	struct ev_retiree retiree;

	struct buf in;	      /* bytes read, not yet parsed */
	size_t head_scanned;  /* bytes of `in` already known to hold no complete head */
	struct buf out;	      /* response bytes not yet written */
	struct buf head;      /* the current request's head, NUL-terminated strings */
	struct buf body;      /* the buffered request body */
	struct buf resp_hdrs; /* headers added with http_resp_header */
	struct http_header hdrs[HTTP_MAX_HEADER_ARRAY];
	struct http_req req;
	char request_id[80];
	const struct route *route;
	char allow[96];	      /* no route took the method: those that serve the path (405) */
	struct http_body dec; /* request body decoder */
	bool body_done;	      /* the request body has been read entirely */
	bool body_paused;
	bool continue_sent;
	http_body_cb *body_cb;
	void *body_arg;

	bool resp_started, resp_chunked, resp_until_close, resp_ended, resp_head_only;
	bool close_after; /* close once this response is written */
	int resp_status;
	uint64_t resp_left; /* for length-framed responses */
	http_conn_cb *on_close, *on_drain;
	void *close_arg, *drain_arg;
	uint64_t started_ms;
};

struct http_server {
	struct ev_loop *loop;
	struct http_server_config cfg;
	struct listener *lst;
	struct route *routes;
	size_t nroutes;
	http_filter *filter;
	void *filter_arg;
	char *strip_prefix; /* http_server_strip_prefix; NULL: none */
	http_handler *fallback;
	void *fallback_arg;
	struct http_conn *conns;
	size_t nconns;		      /* in the list, closed ones included until retired */
	size_t ndead;		      /* closed, waiting for their retire step */
	size_t evicted;		      /* connections given up for newer ones while full */
	struct http_conn *flush_list; /* heads waiting for the end of the turn */
};

/*
 * Lifetime (the ev.h rule): conn_close() marks the connection dead, takes its
 * fd out of the loop and retires it; its on_close hook runs in the retire
 * step at the end of the turn, then it is freed. Everything on the stack may
 * keep using the struct until then and checks c->dead after calling out.
 * Public calls never call the handler back: work they make possible (the next
 * pipelined request, a resumed body, a drain) is queued for the end of the turn.
 */

/* http_server.c */
bool route_match(const char *pattern, const char *path, struct http_req *req, char *store);
void conn_close(struct http_conn *c);
void conn_update_events(struct http_conn *c);
void conn_request_done(struct http_conn *c);
void conn_set_timer(struct http_conn *c, enum conn_timer kind);
/* Writes c's queued output and runs its kicked state machine at the end of
 * this turn (heads wait there for their body). */
void conn_flush_later(struct http_conn *c);

/* http_conn.c */
void conn_process(struct http_conn *c);
void conn_on_io(struct ev_loop *loop, int fd, uint32_t events, void *arg);
void conn_on_timer(struct ev_loop *loop, struct ev_timer *t, void *arg);

/* http_response.c. Writes queued output; from the loop (notify) it may call on_drain. */
int conn_flush(struct http_conn *c, bool notify);

#endif
