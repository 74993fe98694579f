/* SPDX-License-Identifier: Apache-2.0 */
/* cuslice events: what cusliced reports, one JSON object per line, as it happens. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "events.h"

static const char events_usage[] =
	"Usage: cuslice events [-n COUNT] [--for SECONDS] [--socket PATH]\n"
	"\n"
	"Print cusliced's events as JSON lines: the last few hundred, then each new one\n"
	"as it happens. Each line has \"time\" (UTC), \"kind\", \"tenant\" and \"reason\".\n"
	"Kinds: oom (allocations refused over a quota), throttled (launchers waited for\n"
	"their share), claim-bound, claim-refused, denied-open (the kernel refused a device\n"
	"node), bypass (the audit caught a process going around the shim), gpu-mode (a\n"
	"GPU's sharing mode changed), mps-fault (a fatal fault ended an MPS server's\n"
	"clients), mps-restart, claim-sm-unplaced (an SM claim that did not fit).\n"
	"\n"
	"Options:\n"
	"  -n COUNT            stop after COUNT events\n"
	"      --for SECONDS   stop after SECONDS\n"
	"      --socket PATH   the admin socket (default $CUSLICE_ADMIN_SOCKET, else\n"
	"                      /run/cuslice/admin.sock)\n"
	"  -h, --help          show this help\n";

static int subscribe(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	static const char request[] = "{\"op\":\"events\"}\n";
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    write(fd, request, sizeof(request) - 1) != sizeof(request) - 1) {
		int e = errno;
		fprintf(stderr, "cuslice events: cannot reach cusliced at %s: %s\n", path,
			strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	return fd;
}

int cuslice_events(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"for", required_argument, NULL, 'f'},
		{"socket", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *socket_path = admin_socket_default();
	long count = -1;
	double seconds = -1;
	char *end;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hn:", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			count = strtol(optarg, &end, 10);
			if (*end || count < 1) {
				fprintf(stderr,
					"cuslice events: -n \"%s\": give a count of 1 or more\n",
					optarg);
				return 2;
			}
			break;
		case 'f':
			seconds = strtod(optarg, &end);
			if (*end || seconds <= 0) {
				fprintf(stderr,
					"cuslice events: --for \"%s\": give seconds above 0, such "
					"as 5 "
					"or 0.5\n",
					optarg);
				return 2;
			}
			break;
		case 's':
			socket_path = optarg;
			break;
		case 'h':
			fputs(events_usage, stdout);
			return 0;
		default:
			fprintf(stderr, "cuslice events: %s \"%s\"; see cuslice events --help\n",
				c == ':' ? "missing value for" : "unknown option",
				argv[optind - 1]);
			return 2;
		}
	}
	int fd = subscribe(socket_path);
	if (fd < 0)
		return 1;
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	char buf[65536];
	size_t have = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		int wait_ms = -1;
		if (seconds > 0) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			double left = seconds - (double)(now.tv_sec - start.tv_sec) -
				      (double)(now.tv_nsec - start.tv_nsec) / 1e9;
			if (left <= 0)
				break;
			wait_ms = (int)(left * 1000) + 1;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, wait_ms) == 0)
			break;
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			fprintf(stderr, "cuslice events: cusliced closed the stream\n");
			close(fd);
			return 1;
		}
		have += (size_t)n;
		char *line = buf, *nl;
		while ((nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
			fwrite(line, 1, (size_t)(nl - line) + 1, stdout);
			line = nl + 1;
			if (count > 0 && --count == 0) {
				close(fd);
				return 0;
			}
		}
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
	}
	close(fd);
	return 0;
}
