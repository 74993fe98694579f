/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's two unix sockets. Each connection is one exchange, answered
 * at once; identity always comes from the kernel (SO_PEERCRED), never from
 * the message. A client that sends nothing, or garbage, gets an error reply
 * or a closed socket within 200 ms, and the daemon carries on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <time.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "policy/cgroup.h"
#include "procfs.h"

#define ADMIN_REQUEST_MAX 65536

int sockets_listen(const char *path, int mode, int gid)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || chmod(path, mode) < 0 ||
	    (gid >= 0 && chown(path, 0, gid) < 0) || listen(fd, 128) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static int accept_one(int listen_fd, struct ucred *ret_cred)
{
	socklen_t len = sizeof(*ret_cred);
	struct timeval timeout = {.tv_sec = 0, .tv_usec = 200000};
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, ret_cred, &len) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) < 0) {
		close(fd);
		return -EIO;
	}
	return fd;
}

/* The tenant of a process: its cgroup v2 path. */
static int peer_tenant(pid_t pid, char *ret, size_t size)
{
	char buf[4096];
	int r = procfs_read(pid, "cgroup", buf, sizeof(buf));

	return r < 0 ? r : policy_cgroup_v2_path(buf, ret, size);
}

/* The segment, and the board after it when there is one. */
static void send_welcome(int fd, const struct cuslice_welcome *w, int segment_fd, int board_fd)
{
	int fds[2] = {segment_fd, board_fd};
	int nfds = segment_fd < 0 ? 0 : board_fd < 0 ? 1 : 2;
	char control[CMSG_SPACE(sizeof(fds))] = {0};
	struct iovec iov = {.iov_base = (void *)w, .iov_len = sizeof(*w)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	if (nfds) {
		msg.msg_control = control;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	if (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0) {
		/* the client went away; it will retry or fail closed */
	}
}

static void serve_tenant_client(struct daemon *d, int fd, const struct ucred *cred)
{
	struct cuslice_hello hello = {0};
	struct cuslice_welcome w = {.size = sizeof(w), .version = CUSLICE_WIRE_VERSION};
	struct tenant *t = NULL;
	ssize_t n = recv(fd, &hello, sizeof(hello), 0);

	if (n < (ssize_t)(2 * sizeof(uint32_t)) || hello.size < 2 * sizeof(uint32_t) ||
	    hello.version < 1)
		w.status = -EPROTO;
	else if ((w.status = peer_tenant(cred->pid, w.tenant, sizeof(w.tenant))) == 0 &&
		 (w.status = tenants_get(d, w.tenant, &t)) == 0 &&
		 (w.status = claims_present(d, t, &hello, (size_t)n, w.tenant, sizeof(w.tenant))) ==
			 0) {
		t->connections++;
		kernel_registered(d, t, cred->pid); /* before its cuInit opens the devices */
		sched_registered(d, t, daemon_now_ns());
	}
	if (w.status == 0)
		w.flags |= CUSLICE_WELCOME_SEGMENT | (d->board ? CUSLICE_WELCOME_BOARD : 0);
	send_welcome(fd, &w, w.status == 0 ? t->fd : -1, d->board ? d->board_fd : -1);
}

void sockets_serve_tenant(struct daemon *d, int listen_fd)
{
	struct ucred cred;
	int fd;

	while ((fd = accept_one(listen_fd, &cred)) >= 0) {
		serve_tenant_client(d, fd, &cred);
		close(fd);
	}
}

static bool admin_allowed(const struct daemon *d, const struct ucred *cred)
{
	return cred->uid == 0 || (d->admin_gid >= 0 && cred->gid == (gid_t)d->admin_gid);
}

/* Returns true when the connection was kept (an event subscription). */
static bool serve_admin_client(struct daemon *d, int fd, const struct ucred *cred)
{
	char *request = malloc(ADMIN_REQUEST_MAX + 1), *reply;
	size_t len = 0;
	ssize_t n;

	if (!request)
		return false;
	while (len < ADMIN_REQUEST_MAX &&
	       (n = recv(fd, request + len, ADMIN_REQUEST_MAX - len, 0)) > 0) {
		len += (size_t)n;
		if (memchr(request + len - n, '\n', (size_t)n))
			break;
	}
	request[len] = '\0';
	if (!admin_allowed(d, cred))
		reply = strdup(
			"{\"ok\":false,\"error\":\"permission denied: the admin socket is for "
			"root and the admin group\"}");
	else if (len == ADMIN_REQUEST_MAX)
		reply = strdup("{\"ok\":false,\"error\":\"request too large (64 KiB at most)\"}");
	else if (admin_is_subscription(request)) {
		free(request);
		events_subscribe(d, fd);
		return true;
	} else
		reply = admin_handle(d, request);
	if (reply) {
		size_t rlen = strlen(reply);
		if (send(fd, reply, rlen, MSG_NOSIGNAL) == (ssize_t)rlen)
			send(fd, "\n", 1, MSG_NOSIGNAL);
	}
	free(reply);
	free(request);
	return false;
}

void sockets_serve_admin(struct daemon *d, int listen_fd)
{
	struct ucred cred;
	int fd;

	while ((fd = accept_one(listen_fd, &cred)) >= 0) {
		if (!serve_admin_client(d, fd, &cred))
			close(fd);
	}
}
