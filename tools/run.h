/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <sys/types.h>

struct tenant_segment;

/* `cuslice run …`; argv[0] is "run". Returns the process exit status. */
int cuslice_run(int argc, char **argv);

/* Shared with `cuslice profile`: LD_PRELOAD=SHIM before what is preloaded
 * already (0 or -ENOMEM); start COMMAND (its pid, or -1 after a message);
 * wait for it, giving back a quota segment's reservations as its processes
 * exit (the exit status to return: COMMAND's, 128+N for signal N). */
int run_set_preload(const char *shim);
pid_t run_spawn(char **command);
int run_wait(pid_t pid, char **command, struct tenant_segment *t);
