/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cuslice top: a live per-tenant view from cusliced, refreshed every second:
 * VRAM used and quota, weight, limit, the share of GPU time the scheduler
 * gives, launches per second and time spent throttled. On a terminal it
 * redraws in place; otherwise it prints one block per refresh.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <json-c/json.h>

#include "admin.h"
#include "policy/size.h"
#include "top.h"

#define MAX_ROWS 256

static const char top_usage[] =
	"Usage: cuslice top [-n COUNT] [--interval SECONDS] [--socket PATH]\n"
	"\n"
	"A live view of the tenants cusliced knows: VRAM used and quota, weight, limit,\n"
	"the share of GPU time the scheduler gives each (T: it takes turns on its GPU\n"
	"with the other saturating tenants there), launches per second and the share\n"
	"of time its launchers waited. Ctrl-C ends it.\n"
	"\n"
	"Options:\n"
	"  -n COUNT             refresh COUNT times, then stop (default: until interrupted)\n"
	"      --interval SECS  time between refreshes (default 1)\n"
	"      --socket PATH    the admin socket (default $CUSLICE_ADMIN_SOCKET, else\n"
	"                       /run/cuslice/admin.sock)\n"
	"  -h, --help           show this help\n";

struct seen {
	char name[256];
	int64_t launches, throttled_ns;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int64_t get_int(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static struct seen *previous(struct seen *rows, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(rows[i].name, name) == 0)
			return &rows[i];
	return NULL;
}

/* "9.3G", "512M": sizes in five characters or fewer. */
static void short_size(uint64_t bytes, char *out, size_t size)
{
	static const char units[] = "BKMGT";
	double v = (double)bytes;
	int u = 0;

	while (v >= 1000 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, size, v < 10 && u ? "%.1f%c" : "%.0f%c", v, units[u]);
}

/* A name cut to `width` from the left: cgroup paths differ at their end. */
static const char *fit(const char *name, int width, char *buf, size_t size)
{
	int len = (int)strlen(name);

	if (len <= width)
		return name;
	snprintf(buf, size, "\u2026%s", name + len - (width - 1));
	return buf;
}

/* Columns and rows to fill: the terminal's, or 80 and unbounded for a pipe. */
static void terminal_size(bool tty, int *ret_cols, int *ret_rows)
{
	struct winsize w;

	*ret_cols = 80;
	*ret_rows = 1 << 20;
	if (tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) == 0) {
		if (w.ws_col >= 60)
			*ret_cols = w.ws_col;
		if (w.ws_row >= 4)
			*ret_rows = w.ws_row;
	}
}

/* One frame, written at once: on a terminal the cursor goes home and every
 * line clears what is left of the old one after it, so nothing flickers. */
static void draw(json_object *tenants, struct seen *before, int nbefore, struct seen *now,
		 int *nnow, double interval, bool tty)
{
	char *frame = NULL, cut[512];
	size_t flen = 0;
	FILE *f = open_memstream(&frame, &flen);
	const char *eol = tty ? "\033[K\n" : "\n";
	/* the tenant's name gets the columns the others leave; rows that do not
	 * fit the terminal are counted on the last line instead */
	int cols, rows;
	terminal_size(tty, &cols, &rows);
	int name_w = cols - 52, shown_rows = 0, hidden = 0;
	int total = (int)json_object_array_length(tenants);
	int room = total <= rows - 2 ? total : rows - 3; /* tenant rows that fit */
	time_t clock = time(NULL);
	char when[32];

	strftime(when, sizeof(when), "%H:%M:%S", localtime(&clock));
	if (tty)
		fputs("\033[H", f);
	fprintf(f, "cuslice top  %s  %zu tenant%s  every %gs%s", when,
		json_object_array_length(tenants),
		json_object_array_length(tenants) == 1 ? "" : "s", interval, eol);
	fprintf(f, "%-*s %13s %4s %5s %5s %9s %9s%s", name_w, "TENANT", "VRAM USED/MAX", "WT",
		"LIMIT", "SHARE", "LAUNCH/S", "THROTTLED", eol);
	*nnow = 0;
	for (size_t i = 0; i < json_object_array_length(tenants) && *nnow < MAX_ROWS; i++) {
		json_object *t = json_object_array_get_idx(tenants, i), *devices, *name;
		json_object_object_get_ex(t, "tenant", &name);
		json_object_object_get_ex(t, "devices", &devices);
		uint64_t used = 0, quota = 0;
		for (size_t d = 0; d < json_object_array_length(devices); d++) {
			used += (uint64_t)get_int(json_object_array_get_idx(devices, d),
						  "vram_used");
			quota += (uint64_t)get_int(json_object_array_get_idx(devices, d),
						   "vram_quota");
		}
		struct seen *s = &now[(*nnow)++];
		snprintf(s->name, sizeof(s->name), "%s", json_object_get_string(name));
		s->launches = get_int(t, "launches");
		s->throttled_ns = get_int(t, "throttled_ns");
		struct seen *p = previous(before, nbefore, s->name);
		double rate = p ? (s->launches - p->launches) / interval : 0;
		double waited = p ? (s->throttled_ns - p->throttled_ns) / (interval * 1e9) : 0;
		char u[16], q[16], vram[40], limit[16] = "-", share[16] = "all";
		short_size(used, u, sizeof(u));
		short_size(quota, q, sizeof(q));
		snprintf(vram, sizeof(vram), "%s/%s", u, q);
		if (get_int(t, "limit_ppm"))
			snprintf(limit, sizeof(limit), "%.0f%%", get_int(t, "limit_ppm") / 1e4);
		json_object *turns = NULL;
		json_object_object_get_ex(t, "turns", &turns);
		if (get_int(t, "share_ppm"))
			snprintf(share, sizeof(share), "%.0f%%%s", get_int(t, "share_ppm") / 1e4,
				 turns ? "T" : "");
		if (shown_rows >= room) {
			hidden++;
			continue;
		}
		shown_rows++;
		const char *shown = fit(s->name, name_w, cut, sizeof(cut));
		/* the ellipsis is one column but three bytes */
		int pad = name_w + (shown == cut ? 2 : 0);
		fprintf(f, "%-*s %13s %4lld %5s %5s %9.0f %8.0f%%%s", pad, shown, vram,
			(long long)get_int(t, "weight"), limit, share, rate, 100 * waited, eol);
	}
	if (hidden)
		fprintf(f, "\u2026 and %d more tenant%s (cuslice get tenants)%s", hidden,
			hidden == 1 ? "" : "s", eol);
	fputs(tty ? "\033[J" : "\n", f);
	fclose(f);
	/* on a terminal the last line ends without a newline: a full screen must
	 * not scroll */
	if (tty && frame && flen >= 4 && frame[flen - 4] == '\n') {
		memmove(frame + flen - 4, frame + flen - 3, 3);
		flen--;
	}
	if (frame && fwrite(frame, 1, flen, stdout)) {
	}
	free(frame);
	fflush(stdout);
}

int cuslice_top(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"interval", required_argument, NULL, 'i'},
		{"socket", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	static struct seen rows[2][MAX_ROWS];
	const char *socket = admin_socket_default();
	double interval = 1;
	long count = -1;
	int c, nrows[2] = {0, 0};

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:h", longopts, NULL)) != -1) {
		char *end = NULL;
		switch (c) {
		case 'n':
			count = strtol(optarg, &end, 10);
			if (*end || count < 1) {
				fprintf(stderr,
					"cuslice top: -n \"%s\": give a count of 1 or more\n",
					optarg);
				return 2;
			}
			break;
		case 'i':
			interval = strtod(optarg, &end);
			if (*end || interval < 0.1 || interval > 3600) {
				fprintf(stderr,
					"cuslice top: --interval \"%s\": give seconds from 0.1 "
					"to 3600\n",
					optarg);
				return 2;
			}
			break;
		case 's':
			socket = optarg;
			break;
		case 'h':
			fputs(top_usage, stdout);
			return 0;
		default:
			fprintf(stderr,
				"cuslice top: unknown option \"%s\"; see cuslice top --help\n",
				argv[optind - 1]);
			return 2;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	bool tty = isatty(STDOUT_FILENO);
	for (long i = 0; !stop && (count < 0 || i < count); i++) {
		json_object *req = json_object_new_object(), *tenants;
		json_object_object_add(req, "op", json_object_new_string("get-tenants"));
		json_object *reply = admin_ask(socket, req);
		json_object_put(req);
		if (!reply || !json_object_object_get_ex(reply, "tenants", &tenants)) {
			json_object_put(reply);
			return 1;
		}
		draw(tenants, rows[i % 2 ? 0 : 1], nrows[i % 2 ? 0 : 1], rows[i % 2], &nrows[i % 2],
		     interval, tty);
		json_object_put(reply);
		if (count < 0 || i + 1 < count) {
			struct timespec ts = {(time_t)interval,
					      (long)((interval - (time_t)interval) * 1e9)};
			nanosleep(&ts, NULL);
		}
	}
	return 0;
}
