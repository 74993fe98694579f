/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cuslice run: run a command with the shim preloaded into its whole process
 * tree. This is the embedded default: no daemon is needed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"
#include "shim-path.h"
#include "stats-summary.h"

static const char run_usage[] =
	"Usage: cuslice run [OPTIONS] -- COMMAND [ARGS...]\n"
	"\n"
	"Run COMMAND with libcuslice.so preloaded into it and every process it starts.\n"
	"\n"
	"Options:\n"
	"      --summary        when COMMAND exits, print what the shim saw (kernels run,\n"
	"                       graph launches, allocations, launch paths) on stderr\n"
	"      --stats-dir DIR  keep each process's counters as DIR/stats.<pid>.json\n"
	"  -h, --help           show this help\n"
	"\n"
	"The exit status is COMMAND's; 128+N if a signal N ended it; 127 if it could\n"
	"not be found, 126 if it could not be run; 2 for a usage error of cuslice's own.\n";

struct run_options {
	bool summary;
	const char *stats_dir;
	char **command;
};

static int parse(int argc, char **argv, struct run_options *ret)
{
	static const struct option longopts[] = {
		{"summary", no_argument, NULL, 's'},
		{"stats-dir", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct run_options o = {0};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.summary = true;
			break;
		case 'd':
			o.stats_dir = optarg;
			break;
		case 'h':
			fputs(run_usage, stdout);
			return 1;
		default:
			fprintf(stderr,
				"cuslice run: unknown option \"%s\"; see cuslice run --help\n",
				argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "cuslice run: no command given; use: cuslice run [OPTIONS] -- "
				"COMMAND [ARGS...]\n");
		return -EINVAL;
	}
	o.command = argv + optind;
	*ret = o;
	return 0;
}

static int prepare_stats_dir(const struct run_options *o, char *dir, size_t size)
{
	if (o->stats_dir) {
		if (mkdir(o->stats_dir, 0755) < 0 && errno != EEXIST) {
			fprintf(stderr, "cuslice run: --stats-dir \"%s\": %s\n", o->stats_dir,
				strerror(errno));
			return -errno;
		}
		if (!realpath(o->stats_dir, dir)) {
			fprintf(stderr, "cuslice run: --stats-dir \"%s\": %s\n", o->stats_dir,
				strerror(errno));
			return -errno;
		}
		return 0;
	}
	snprintf(dir, size, "%s/cuslice-run.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "cuslice run: cannot make a directory for the stats in %s: %s\n",
			dir, strerror(errno));
		return -errno;
	}
	return 0;
}

/* LD_PRELOAD=<shim> in front of whatever the caller preloads already. */
static int set_preload(const char *shim)
{
	const char *old = getenv("LD_PRELOAD");
	char *value;

	if (old && *old) {
		if (asprintf(&value, "%s %s", shim, old) < 0)
			return -ENOMEM;
	} else if (!(value = strdup(shim))) {
		return -ENOMEM;
	}
	int r = setenv("LD_PRELOAD", value, 1);
	free(value);
	return r < 0 ? -errno : 0;
}

static int spawn_and_wait(char **command)
{
	pid_t pid = fork();

	if (pid < 0) {
		fprintf(stderr, "cuslice run: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		execvp(command[0], command);
		int e = errno;
		fprintf(stderr, "cuslice run: cannot run \"%s\": %s\n", command[0], strerror(e));
		_exit(e == ENOENT ? 127 : 126);
	}
	/* The terminal signals the whole foreground group; the command decides. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	fprintf(stderr, "cuslice run: \"%s\" was killed by signal %d (%s)\n", command[0],
		WTERMSIG(status), strsignal(WTERMSIG(status)));
	return 128 + WTERMSIG(status);
}

int cuslice_run(int argc, char **argv)
{
	struct run_options o;
	char shim[PATH_MAX], dir[PATH_MAX], stats[PATH_MAX + 32];
	int r = parse(argc, argv, &o);

	if (r != 0)
		return r > 0 ? 0 : 2;
	if ((r = shim_path_find(shim, sizeof(shim))) < 0) {
		fprintf(stderr,
			"cuslice run: cannot find libcuslice.so (looked beside this program "
			"and at %s): %s\n",
			CUSLICE_SHIM_INSTALLED, strerror(-r));
		return 1;
	}
	bool counting = o.summary || o.stats_dir;
	if (counting) {
		if (prepare_stats_dir(&o, dir, sizeof(dir)) < 0)
			return 1;
		snprintf(stats, sizeof(stats), "%s/stats.%%p.json", dir);
		setenv("CUSLICE_STATS", stats, 1);
	}
	if (set_preload(shim) < 0) {
		fprintf(stderr, "cuslice run: cannot set LD_PRELOAD: out of memory\n");
		return 1;
	}
	int status = spawn_and_wait(o.command);
	if (o.summary && stats_summary_print(dir, stderr) < 0)
		fprintf(stderr, "cuslice run: cannot read the stats in %s\n", dir);
	if (o.summary && !o.stats_dir)
		stats_dir_remove(dir);
	return status;
}
