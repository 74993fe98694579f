/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registering with cusliced: once per process, when CUDA starts. The daemon
 * finds this process's tenant from the kernel and hands back the tenant's
 * segment. With no daemon on the machine (no socket), there is no quota;
 * with one that does not answer, CUDA is refused rather than run unlimited.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "policy/wire.h"
#include "shim.h"

#define CONNECT_TRIES 20
#define RETRY_US 100000

static int connect_daemon(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	for (int i = 0; i < CONNECT_TRIES; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
			return fd;
		int e = errno;
		close(fd);
		if (e == ENOENT)
			return -ENOENT; /* no daemon on this machine */
		if (e != ECONNREFUSED && e != EAGAIN)
			return -e;
		usleep(RETRY_US); /* restarting: fail static for a moment */
	}
	return -ECONNREFUSED;
}

/* The segment, and the node's board when the daemon sends one (-1 if not). */
static int receive_welcome(int fd, struct cuslice_welcome *w, int *ret_segment, int *ret_board)
{
	int fds[2] = {-1, -1};
	char control[CMSG_SPACE(sizeof(fds))];
	struct iovec iov = {.iov_base = w, .iov_len = sizeof(*w)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control,
			     .msg_controllen = sizeof(control)};
	ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);

	*ret_segment = *ret_board = -1;
	if (n < (ssize_t)(3 * sizeof(uint32_t)))
		return -EPROTO;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t got = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds, CMSG_DATA(c), (got < 2 ? got : 2) * sizeof(int));
		}
	if (w->status < 0 || fds[0] < 0) {
		for (int i = 0; i < 2; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		return w->status < 0 ? w->status : -EPROTO;
	}
	*ret_segment = fds[0];
	*ret_board = fds[1];
	return 0;
}

/* The claims the device plugin mounted into this container, one per file. */
static void read_claims(struct cuslice_hello *hello)
{
	glob_t g;
	int n = 0;

	if (glob(shim_config.claims_glob ? shim_config.claims_glob : "/run/cuslice/*/claim", 0,
		 NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc && n < CUSLICE_MAX_CLAIMS; i++) {
		FILE *f = fopen(g.gl_pathv[i], "re");
		char *claim = hello->claims[n];
		if (f && fgets(claim, CUSLICE_CLAIM_MAX, f)) {
			claim[strcspn(claim, "\n")] = '\0';
			n += claim[0] != '\0';
		}
		if (f)
			fclose(f);
	}
	globfree(&g);
}

int client_register(int *ret_segment, int *ret_board)
{
	const char *path =
		shim_config.socket_path ? shim_config.socket_path : "/run/cuslice/tenant.sock";
	struct cuslice_hello hello = {.size = sizeof(hello), .version = CUSLICE_WIRE_VERSION};
	struct cuslice_welcome w = {0};
	int fd, r;

	*ret_segment = *ret_board = -1;
	fd = connect_daemon(path);
	if (fd == -ENOENT && !shim_config.socket_path)
		return 0;
	if (fd < 0) {
		shim_log("cusliced does not answer at %s: %s; CUDA is disabled rather than run "
			 "without the tenant's quota",
			 path, strerror(-fd));
		return fd;
	}
	read_claims(&hello);
	if (send(fd, &hello, sizeof(hello), MSG_NOSIGNAL) != sizeof(hello))
		r = -errno;
	else
		r = receive_welcome(fd, &w, ret_segment, ret_board);
	close(fd);
	w.tenant[sizeof(w.tenant) - 1] = '\0';
	if (r < 0)
		shim_log("cusliced at %s refused this process: %s; CUDA is disabled", path,
			 w.status < 0 && w.tenant[0] ? w.tenant : strerror(-r));
	return r;
}
