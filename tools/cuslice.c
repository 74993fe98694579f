/* SPDX-License-Identifier: Apache-2.0 */
/* cuslice: the one command line tool. */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "events.h"
#include "profile.h"
#include "report.h"
#include "run.h"
#include "top.h"

static const char usage[] =
	"Usage: cuslice COMMAND [ARGS...]\n"
	"\n"
	"Share one NVIDIA GPU between tenants, with frameworks running unchanged.\n"
	"\n"
	"Commands:\n"
	"  run [OPTIONS] -- CMD [ARGS...]   run CMD with the cuslice shim preloaded\n"
	"  profile [-o FILE] -- CMD         run CMD alone and record what its kernels cost\n"
	"  get tenants | node               list tenants and their quotas, or the node's\n"
	"                                   GPUs and kernel features (needs cusliced)\n"
	"  describe TENANT                  one tenant: quotas, use, processes\n"
	"  set TENANT [--vram SIZE] [--weight N] [--limit P%] [--gpus N,M] [--enforce on]\n"
	"             [--sm N|P%] ...       change a tenant's quotas, kept across restarts\n"
	"  set gpu N --mode MODE            timeslice, spatial (SM partitions) or hybrid\n"
	"  events [-n COUNT] [--for SECS]   what cusliced reports, as JSON lines\n"
	"  report --html FILE               a page with each tenant's GPU time and VRAM\n"
	"                                   over the last minutes\n"
	"  top                              live view of the tenants: VRAM, GPU time, launches\n"
	"  help                             show this help\n"
	"  version                          print the version\n"
	"\n"
	"`cuslice COMMAND --help` describes a command.\n";

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "run") == 0)
		return cuslice_run(argc - 1, argv + 1);
	if (strcmp(cmd, "profile") == 0)
		return cuslice_profile(argc - 1, argv + 1);
	if (strcmp(cmd, "get") == 0 || strcmp(cmd, "set") == 0 || strcmp(cmd, "describe") == 0)
		return cuslice_admin(argc - 1, argv + 1);
	if (strcmp(cmd, "report") == 0)
		return cuslice_report(argc - 1, argv + 1);
	if (strcmp(cmd, "events") == 0)
		return cuslice_events(argc - 1, argv + 1);
	if (strcmp(cmd, "top") == 0)
		return cuslice_top(argc - 1, argv + 1);
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("cuslice %s\n", CUSLICE_VERSION);
		return 0;
	}
	fprintf(stderr,
		"cuslice: unknown command \"%s\"; commands: run, profile, get, describe, set, top, "
		"help, "
		"version\n",
		cmd);
	return 2;
}
