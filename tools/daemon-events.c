/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Events, one JSON object per line: {"time", "kind", "tenant", "reason"}.
 * The last few hundred are kept; `cuslice events` gets those, then every new
 * one as it happens, on an admin connection the daemon keeps open. A
 * subscriber that cannot keep up is dropped rather than waited for.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "daemon.h"

static void send_line(struct daemon *d, int i, const char *line)
{
	size_t len = strlen(line);

	if (send(d->events.subscribers[i], line, len, MSG_NOSIGNAL | MSG_DONTWAIT) !=
	    (ssize_t)len) {
		close(d->events.subscribers[i]);
		d->events.subscribers[i] = d->events.subscribers[--d->events.nsubscribers];
	}
}

void events_emit(struct daemon *d, const char *kind, const char *tenant, const char *fmt, ...)
{
	char reason[512], when[64];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + n, sizeof(when) - n, ".%03ldZ", ts.tv_nsec / 1000000);

	json_object *e = json_object_new_object();
	json_object_object_add(e, "time", json_object_new_string(when));
	json_object_object_add(e, "kind", json_object_new_string(kind));
	json_object_object_add(e, "tenant", json_object_new_string(tenant ? tenant : ""));
	json_object_object_add(e, "reason", json_object_new_string(reason));
	char *line = NULL;
	if (asprintf(&line, "%s\n",
		     json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
		line = NULL;
	json_object_put(e);
	if (!line)
		return;
	int slot = (int)(d->events.count++ % DAEMON_EVENTS_KEPT);
	free(d->events.kept[slot]);
	d->events.kept[slot] = line;
	for (int i = d->events.nsubscribers - 1; i >= 0; i--)
		send_line(d, i, line);
}

void events_subscribe(struct daemon *d, int fd)
{
	if (d->events.nsubscribers == DAEMON_EVENT_SUBSCRIBERS) {
		static const char full[] =
			"{\"ok\":false,\"error\":\"too many event subscribers\"}\n";
		if (send(fd, full, sizeof(full) - 1, MSG_NOSIGNAL)) {
		}
		close(fd);
		return;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	d->events.subscribers[d->events.nsubscribers++] = fd;
	uint64_t first =
		d->events.count > DAEMON_EVENTS_KEPT ? d->events.count - DAEMON_EVENTS_KEPT : 0;
	for (uint64_t k = first; k < d->events.count && d->events.nsubscribers; k++) {
		int i = d->events.nsubscribers - 1;
		if (d->events.subscribers[i] != fd)
			break; /* dropped */
		send_line(d, i, d->events.kept[k % DAEMON_EVENTS_KEPT]);
	}
}

/* Every second: refusals over quotas, and time launchers spent throttled. */
void events_watch(struct daemon *d, uint64_t now_ns)
{
	for (int i = 0; i < d->ntenants; i++) {
		struct tenant *t = d->tenants[i];
		for (int g = 0; g < d->ndevices; g++) {
			uint64_t n = __atomic_load_n(&t->seg->refusals[g], __ATOMIC_RELAXED);
			if (n > t->seen_refusals[g])
				events_emit(
					d, "oom", t->name,
					"%llu allocation%s on GPU %d refused: over the %llu-byte "
					"quota",
					(unsigned long long)(n - t->seen_refusals[g]),
					n - t->seen_refusals[g] == 1 ? "" : "s", g,
					(unsigned long long)__atomic_load_n(
						&t->seg->devices[g].quota, __ATOMIC_RELAXED));
			t->seen_refusals[g] = n;
		}
		/* at most one throttling event per tenant every 10 s */
		uint64_t waited = __atomic_load_n(&t->seg->sched.throttled_ns, __ATOMIC_RELAXED);
		uint64_t since = waited - t->seen_throttled_ns;
		t->seen_throttled_ns = waited;
		if (since < 100000000ull ||
		    (t->throttle_event_ns && now_ns - t->throttle_event_ns < 10000000000ull))
			continue;
		t->throttle_event_ns = now_ns;
		events_emit(d, "throttled", t->name,
			    "launchers waited %.2f s in the last second for the tenant's share of "
			    "GPU time (%.1f %%)",
			    (double)since / 1e9,
			    __atomic_load_n(&t->seg->sched.share_ppm, __ATOMIC_RELAXED) / 1e4);
	}
}

void history_sample(struct daemon *d)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	for (int i = 0; i < d->ntenants; i++) {
		struct tenant *t = d->tenants[i];
		struct history_sample s = {
			.time_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000,
			.gpu_ns = __atomic_load_n(&t->seg->sched.admitted_ns, __ATOMIC_RELAXED),
			.launches = t->launches_total,
		};
		for (int g = 0; g < d->ndevices; g++)
			s.vram += __atomic_load_n(&t->seg->devices[g].reserved, __ATOMIC_RELAXED);
		t->history[t->nhistory++ % DAEMON_HISTORY] = s;
	}
}

/* The last `seconds` of each tenant's samples, oldest first, as
 * [time_ms, vram_bytes, gpu_ns, launches] rows. */
json_object *history_json(const struct daemon *d, unsigned seconds)
{
	json_object *list = json_object_new_array();

	for (int i = 0; i < d->ntenants; i++) {
		const struct tenant *t = d->tenants[i];
		json_object *o = json_object_new_object(), *rows = json_object_new_array();
		uint64_t n = t->nhistory < DAEMON_HISTORY ? t->nhistory : DAEMON_HISTORY;
		if (n > seconds)
			n = seconds;
		for (uint64_t k = t->nhistory - n; k < t->nhistory; k++) {
			const struct history_sample *s = &t->history[k % DAEMON_HISTORY];
			json_object *row = json_object_new_array();
			json_object_array_add(row, json_object_new_int64((int64_t)s->time_ms));
			json_object_array_add(row, json_object_new_int64((int64_t)s->vram));
			json_object_array_add(row, json_object_new_int64((int64_t)s->gpu_ns));
			json_object_array_add(row, json_object_new_int64((int64_t)s->launches));
			json_object_array_add(rows, row);
		}
		json_object_object_add(o, "tenant", json_object_new_string(t->name));
		json_object_object_add(o, "samples", rows);
		json_object_array_add(list, o);
	}
	return list;
}
