/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

extern char **environ;

const char *harness_path(const char *env_name)
{
	const char *v = getenv(env_name);
	if (!v)
		fail_msg("%s is not set; run the tests with `meson test`", env_name);
	return v;
}

static char tmpdir[] = "/tmp/cuslice-test.XXXXXX";

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path); /* best effort: keep going */
	return 0;
}

static void remove_tmpdir(void)
{
	nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Made on first use, removed when the test program exits. */
const char *harness_tmpdir(void)
{
	static int made;

	if (!made) {
		assert_non_null(mkdtemp(tmpdir));
		atexit(remove_tmpdir);
		made = 1;
	}
	return tmpdir;
}

static void put_env(char **env, size_t *n, const char *entry)
{
	size_t name_len = strcspn(entry, "=");

	for (size_t i = 0; i < *n; i++) {
		if (strncmp(env[i], entry, name_len) == 0 && env[i][name_len] == '=') {
			env[i] = (char *)entry;
			return;
		}
	}
	env[(*n)++] = (char *)entry;
}

static void read_all(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t r;

	while (n + 1 < size && (r = read(fd, buf + n, size - 1 - n)) > 0)
		n += r;
	buf[n] = '\0';
}

void harness_run(char *const argv[], char *const extra_env[], struct run_result *ret)
{
	static char preload[4096], libpath[4096], stats[4096];
	char *env[512];
	size_t n = 0;
	int out[2], err[2];

	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", harness_path("CUSLICE_SHIM"));
	snprintf(libpath, sizeof(libpath), "LD_LIBRARY_PATH=%s", harness_path("FAKECUDA_DIR"));
	snprintf(stats, sizeof(stats), "CUSLICE_STATS=%s/stats.%%p.json", harness_tmpdir());
	for (char **e = environ; *e && n < 400; e++)
		env[n++] = *e;
	put_env(env, &n, preload);
	put_env(env, &n, libpath);
	put_env(env, &n, stats);
	for (size_t i = 0; extra_env && extra_env[i]; i++)
		put_env(env, &n, extra_env[i]);
	/* "NAME=" unsets NAME */
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		if (env[i][strlen(env[i]) - 1] != '=')
			env[kept++] = env[i];
	env[kept] = NULL;

	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		execve(argv[0], argv, env);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	read_all(out[0], ret->out, sizeof(ret->out));
	read_all(err[0], ret->err, sizeof(ret->err));
	close(out[0]);
	close(err[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	ret->pid = pid;
	ret->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

json_object *harness_stats(pid_t pid)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/stats.%d.json", harness_tmpdir(), (int)pid);
	json_object *root = json_object_from_file(path);
	if (!root)
		fail_msg("no stats from pid %d at %s: %s", (int)pid, path,
			 json_util_get_last_err());
	return root;
}

int64_t harness_int(json_object *root, const char *path)
{
	char buf[256];
	json_object *node = root;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *save, *key = strtok_r(buf, ".", &save); key; key = strtok_r(NULL, ".", &save)) {
		char *end;
		unsigned long i = strtoul(key, &end, 10);
		if (json_object_is_type(node, json_type_array) && *key && !*end) {
			if (i >= json_object_array_length(node))
				return 0;
			node = json_object_array_get_idx(node, i);
		} else if (!json_object_object_get_ex(node, key, &node)) {
			return 0;
		}
	}
	return json_object_get_int64(node);
}

int harness_lines(const char *text)
{
	int n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

void harness_cli(char *const args[], char *const extra_env[], struct run_result *ret)
{
	char *argv[24] = {(char *)harness_path("CUSLICE_CLI")};
	int n = 1;

	for (int i = 0; args[i] && n < 23; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	harness_run(argv, extra_env, ret);
}

void harness_expect_ok(const struct run_result *r)
{
	if (r->status != 0)
		fail_msg("exit %d\nstdout: %s\nstderr: %s", r->status, r->out, r->err);
}

double harness_value(const char *text, const char *key)
{
	size_t len = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, len) == 0 && p[len] == ' ')
			return strtod(p + len + 1, NULL);
	fail_msg("no \"%s\" in:\n%s", key, text);
	return 0;
}
