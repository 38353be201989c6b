// SPDX-License-Identifier: Apache-2.0
/*
 * /metrics and /metrics/watch. Cgroup-aware where limits exist:
 *  - cpu_count: cgroup v2 cpu.max (or v1 cfs quota/period), rounded down, at
 *    least 1; else the CPUs in our affinity mask.
 *  - cpu_used_pct: with a cgroup, the cgroup's CPU time (v2 cpu.stat
 *    usage_usec, v1 cpuacct.usage) over the window, as a share of cpu_count
 *    CPUs; else host-wide /proc/stat (total - idle - iowait) / total.
 *  - mem_total_mib / mem_used_mib: with a cgroup memory limit, the limit and
 *    the usage minus inactive file cache; else /proc/meminfo
 *    (Total - Free - Buffers - Cached - SReclaimable).
 * The sample window is METRICS_WINDOW_MS, waited on a timer: other requests
 * are served meanwhile.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "execd.h"
#include "respond.h"
#include "stream.h"

#define METRICS_WINDOW_MS	250
#define METRICS_WATCH_PERIOD_MS 2000

struct cpu_sample {
	unsigned long long busy, total; /* host: jiffies */
	unsigned long long cg_usec;	/* cgroup usage, microseconds */
	bool has_cg;
	uint64_t mono_ms;
};

static int read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (int)n;
}

static bool read_u64(const char *path, unsigned long long *out)
{
	char buf[64];
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return false;
	char *end;
	unsigned long long v = strtoull(buf, &end, 10);
	if (end == buf)
		return false;
	*out = v;
	return true;
}

/* The value of "key <n>" in a stat-style file. */
static bool stat_field(const char *path, const char *key, unsigned long long *out)
{
	char buf[4096];
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return false;
	size_t kl = strlen(key);
	for (char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, kl) == 0 && p[kl] == ' ') {
			*out = strtoull(p + kl + 1, NULL, 10);
			return true;
		}
	}
	return false;
}

static double cpu_count(void)
{
	char buf[128];
	if (read_file("/sys/fs/cgroup/cpu.max", buf, sizeof(buf)) > 0 &&
	    strncmp(buf, "max", 3) != 0) {
		double quota = 0, period = 0;
		if (sscanf(buf, "%lf %lf", &quota, &period) == 2 && period > 0) {
			double n = (double)(long long)(quota / period);
			return n < 1 ? 1 : n;
		}
	}
	unsigned long long q, p;
	if (read_u64("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", &q) &&
	    read_u64("/sys/fs/cgroup/cpu/cpu.cfs_period_us", &p) && p > 0 && (long long)q > 0) {
		double n = (double)(q / p);
		return n < 1 ? 1 : n;
	}
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
	return 1;
}

static void take_cpu(struct cpu_sample *s)
{
	memset(s, 0, sizeof(*s));
	s->mono_ms = ev_clock_ms();
	unsigned long long usec;
	if (stat_field("/sys/fs/cgroup/cpu.stat", "usage_usec", &usec)) {
		s->cg_usec = usec;
		s->has_cg = true;
	} else if (read_u64("/sys/fs/cgroup/cpuacct/cpuacct.usage", &usec)) {
		s->cg_usec = usec / 1000; /* ns */
		s->has_cg = true;
	}
	char buf[512];
	if (read_file("/proc/stat", buf, sizeof(buf)) > 0) {
		unsigned long long v[10] = {0};
		sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		       &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
		/* user nice system idle iowait irq softirq steal (guest is inside user). */
		s->total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
		s->busy = s->total - v[3] - v[4];
	}
}

/* Whether we run inside a cgroup with its own accounting (not the host root). */
static bool in_limited_cgroup(void)
{
	char buf[128];
	if (read_file("/sys/fs/cgroup/cpu.max", buf, sizeof(buf)) > 0)
		return strncmp(buf, "max", 3) != 0;
	unsigned long long q;
	return read_u64("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", &q) && (long long)q > 0;
}

static double cpu_pct(const struct cpu_sample *a, const struct cpu_sample *b, double ncpu)
{
	double pct = 0;
	if (a->has_cg && b->has_cg && in_limited_cgroup() && b->mono_ms > a->mono_ms) {
		double used = (double)(b->cg_usec - a->cg_usec) / 1000.0;
		pct = used / ((double)(b->mono_ms - a->mono_ms) * ncpu) * 100.0;
	} else if (b->total > a->total) {
		pct = (double)(b->busy - a->busy) / (double)(b->total - a->total) * 100.0;
	}
	return pct < 0 ? 0 : pct > 100 ? 100 : pct;
}

static void memory(double *total_mib, double *used_mib)
{
	unsigned long long limit, usage, inactive = 0;
	char buf[64];
	const double mib = 1048576.0;
	if (read_file("/sys/fs/cgroup/memory.max", buf, sizeof(buf)) > 0 &&
	    strncmp(buf, "max", 3) != 0 && read_u64("/sys/fs/cgroup/memory.max", &limit) &&
	    read_u64("/sys/fs/cgroup/memory.current", &usage)) {
		stat_field("/sys/fs/cgroup/memory.stat", "inactive_file", &inactive);
		*total_mib = (double)limit / mib;
		*used_mib = (double)(usage > inactive ? usage - inactive : usage) / mib;
		return;
	}
	if (read_u64("/sys/fs/cgroup/memory/memory.limit_in_bytes", &limit) &&
	    limit < (1ULL << 60) &&
	    read_u64("/sys/fs/cgroup/memory/memory.usage_in_bytes", &usage)) {
		stat_field("/sys/fs/cgroup/memory/memory.stat", "total_inactive_file", &inactive);
		*total_mib = (double)limit / mib;
		*used_mib = (double)(usage > inactive ? usage - inactive : usage) / mib;
		return;
	}
	unsigned long long tot = 0, fr = 0, bu = 0, ca = 0, sr = 0;
	stat_field("/proc/meminfo", "MemTotal:", &tot);
	stat_field("/proc/meminfo", "MemFree:", &fr);
	stat_field("/proc/meminfo", "Buffers:", &bu);
	stat_field("/proc/meminfo", "Cached:", &ca);
	stat_field("/proc/meminfo", "SReclaimable:", &sr);
	/* meminfo fields are "Key:   123 kB": stat_field skips one space, strtoull the rest. */
	unsigned long long used = tot - fr - bu - ca - sr;
	if (used > tot)
		used = tot - fr;
	*total_mib = (double)tot / 1024.0;
	*used_mib = (double)used / 1024.0;
}

/* Go formats float64 with the shortest representation ("4", "12.5"). */
static void put_num(struct buf *b, const char *key, double v)
{
	char s[64];
	snprintf(s, sizeof(s), "%.15g", v);
	buf_printf(b, "\"%s\":%s", key, s);
}

static void render(struct buf *b, const struct cpu_sample *a, const struct cpu_sample *s2,
		   int64_t ts)
{
	double n = cpu_count(), total, used;
	memory(&total, &used);
	buf_puts(b, "{");
	put_num(b, "cpu_count", n);
	buf_puts(b, ",");
	put_num(b, "cpu_used_pct", cpu_pct(a, s2, n));
	buf_puts(b, ",");
	put_num(b, "mem_total_mib", total);
	buf_puts(b, ",");
	put_num(b, "mem_used_mib", used);
	buf_printf(b, ",\"timestamp\":%lld}", (long long)ts);
}

struct sampling {
	struct http_conn *c;
	struct ev_timer t;
	struct cpu_sample first;
	int64_t ts;
	bool watch;
	struct execd *x;
};

static void sampling_gone(struct http_conn *c, void *arg)
{
	struct sampling *s = arg;
	(void)c;
	ev_timer_stop(s->x->loop, &s->t);
	free(s);
}

static void on_sample(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct sampling *s = arg;
	struct cpu_sample second;
	take_cpu(&second);
	struct buf b;
	buf_init(&b, 0);
	render(&b, &s->first, &second, s->ts);
	if (!s->watch) {
		http_conn_on_close(s->c, NULL, NULL);
		respond_json_buf(s->c, 200, &b);
		buf_free(&b);
		free(s);
		return;
	}
	/* watch: one JSON line per period (NDJSON) on the open stream. */
	buf_puts(&b, "\n");
	int r = http_resp_write(s->c, buf_head(&b), b.len);
	buf_free(&b);
	if (r < 0)
		return; /* the close hook frees s */
	s->first = second;
	s->ts = stream_now_ms();
	ev_timer_start(loop, t, METRICS_WATCH_PERIOD_MS);
}

static void start(struct execd *x, struct http_conn *c, bool watch)
{
	struct sampling *s = calloc(1, sizeof(*s));
	if (!s) {
		respond_error(c, 500, "RUNTIME_ERROR",
			      "error reading runtime metrics. out of memory");
		return;
	}
	s->c = c;
	s->x = x;
	s->watch = watch;
	s->ts = stream_now_ms();
	take_cpu(&s->first);
	ev_timer_init(&s->t, on_sample, s);
	http_conn_on_close(c, sampling_gone, s);
	if (watch) {
		http_resp_header(c, "Cache-Control", "no-cache");
		http_resp_header(c, "X-Accel-Buffering", "no");
		http_resp_begin_stream(c, 200, "text/event-stream");
	}
	ev_timer_start(x->loop, &s->t, METRICS_WINDOW_MS);
}

static void h_metrics(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)req;
	start(arg, c, false);
}

static void h_watch(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)req;
	start(arg, c, true);
}

int metrics_routes(struct execd *x)
{
	int r = http_server_route(x->srv, "GET", "/metrics", h_metrics, x, NULL);
	return r ? r : http_server_route(x->srv, "GET", "/metrics/watch", h_watch, x, NULL);
}
