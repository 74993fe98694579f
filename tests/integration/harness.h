/* SPDX-License-Identifier: Apache-2.0 */
/* Running programs under the shim and reading what it counted. */
#pragma once

#include <json-c/json.h>
#include <stdint.h>
#include <sys/types.h>

struct run_result {
	int status; /* exit code, or 128 + signal */
	pid_t pid;
	char out[8192];
	char err[8192];
};

/* Paths given by meson in the environment (see tests/meson.build). */
const char *harness_path(const char *env_name);

/* A fresh temporary directory for this test. */
const char *harness_tmpdir(void);

/* Runs argv with the shim preloaded, fakecuda first on the library path,
 * CUSLICE_STATS=<tmpdir>/stats.%p.json, plus `extra_env` ("NAME=value", NULL
 * terminated; "NAME=" with nothing after unsets NAME). */
void harness_run(char *const argv[], char *const extra_env[], struct run_result *ret);

/* Runs the cuslice CLI (CUSLICE_CLI) with `args` (NULL terminated) as harness_run does. */
void harness_cli(char *const args[], char *const extra_env[], struct run_result *ret);

/* Fails the test, showing the output, unless the run exited 0. */
void harness_expect_ok(const struct run_result *r);

/* The number after "KEY " at the start of a line of `text`; fails the test if absent. */
double harness_value(const char *text, const char *key);

/* The stats written by process `pid`; fails the test if absent. */
json_object *harness_stats(pid_t pid);

/* Integer at a dotted path ("kernels.run", "calls.cuLaunchKernel.calls", "gate.costs.0.ns":
 * a number indexes an array); 0 if absent. */
int64_t harness_int(json_object *root, const char *path);

/* Number of lines in `text`. */
int harness_lines(const char *text);
