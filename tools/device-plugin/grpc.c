/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "grpc.h"

#define MAX_MESSAGE (4u << 20) /* what a request may carry */

struct stream {
	int32_t id;
	char path[256];
	uint8_t *in; /* the request (server) or response (client) body */
	size_t in_len;
	uint8_t *out; /* framed messages not yet sent */
	size_t out_len, out_off;
	bool streaming, closing, deferred, too_big;
	enum grpc_status status;
	char error[256];
	int grpc_status; /* client: from the trailers; -1 until seen */
	struct stream *next;
};

struct conn {
	int fd;
	nghttp2_session *session;
	struct grpc_server *server; /* NULL: a client call */
	struct stream *streams;
	grpc_done done; /* client */
	void *ctx;
	bool finished, dead;
	struct conn *next;
};

struct grpc_server {
	int fd;
	char path[108];
	const struct grpc_method *methods;
	void *ctx;
	struct grpc_server *next;
};

struct grpc_loop {
	struct grpc_server *servers;
	struct conn *conns;
	nghttp2_session_callbacks *callbacks;
};

static struct stream *stream_new(struct conn *c, int32_t id)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->id = id;
	s->grpc_status = -1;
	s->next = c->streams;
	c->streams = s;
	return s;
}

static void stream_free(struct conn *c, struct stream *s)
{
	for (struct stream **p = &c->streams; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	free(s->in);
	free(s->out);
	free(s);
}

static int append(uint8_t **buf, size_t *len, const uint8_t *data, size_t n)
{
	uint8_t *grown = realloc(*buf, *len + n + 1);

	if (!grown)
		return -ENOMEM;
	memcpy(grown + *len, data, n);
	*buf = grown;
	*len += n;
	return 0;
}

/* One gRPC message: uncompressed flag, 4-byte big-endian length, payload. */
static int append_frame(struct stream *s, const uint8_t *msg, size_t len)
{
	uint8_t head[5] = {0, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			   (uint8_t)len};

	if (append(&s->out, &s->out_len, head, 5) < 0)
		return -ENOMEM;
	return len ? append(&s->out, &s->out_len, msg, len) : 0;
}

/* The single message of a body; -EINVAL if it is not exactly one. */
static int parse_frame(const uint8_t *body, size_t len, const uint8_t **ret, size_t *ret_len)
{
	if (len < 5 || body[0] != 0)
		return -EINVAL;
	size_t n = (size_t)body[1] << 24 | (size_t)body[2] << 16 | (size_t)body[3] << 8 | body[4];
	if (n != len - 5)
		return -EINVAL;
	*ret = body + 5;
	*ret_len = n;
	return 0;
}

#define NV(n, v)                                                          \
	{                                                                 \
		(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), \
			NGHTTP2_NV_FLAG_NO_COPY_NAME                      \
	}

static void submit_trailers(struct conn *c, struct stream *s)
{
	char code[16];
	snprintf(code, sizeof(code), "%d", (int)s->status);
	nghttp2_nv trailers[] = {NV("grpc-status", code), NV("grpc-message", s->error)};
	nghttp2_submit_trailer(c->session, s->id, trailers, s->error[0] ? 2 : 1);
}

static ssize_t read_out(nghttp2_session *session, int32_t id, uint8_t *buf, size_t length,
			uint32_t *flags, nghttp2_data_source *source, void *user)
{
	struct conn *c = user;
	struct stream *s = source->ptr;
	size_t left = s->out_len - s->out_off;

	if (left) {
		size_t n = left < length ? left : length;
		memcpy(buf, s->out + s->out_off, n);
		s->out_off += n;
		if (s->out_off == s->out_len)
			s->out_off = s->out_len = 0;
		return (ssize_t)n;
	}
	if (s->closing) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		if (c->server) { /* the status goes in trailers */
			*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
			submit_trailers(c, s);
		}
		return 0;
	}
	s->deferred = true;
	return NGHTTP2_ERR_DEFERRED;
}

static const struct grpc_method *find_method(const struct grpc_server *srv, const char *path)
{
	for (const struct grpc_method *m = srv->methods; m->path; m++)
		if (strcmp(m->path, path) == 0)
			return m;
	return NULL;
}

/* A complete request: run its method, start the reply. */
static void dispatch(struct conn *c, struct stream *s)
{
	const struct grpc_method *m = find_method(c->server, s->path);
	struct grpc_reply reply = {.status = GRPC_OK};
	const uint8_t *msg;
	size_t len;

	if (!m) {
		reply.status = GRPC_UNIMPLEMENTED;
		snprintf(reply.error, sizeof(reply.error), "unknown method %.200s", s->path);
	} else if (s->too_big || parse_frame(s->in, s->in_len, &msg, &len) < 0) {
		reply.status = GRPC_INTERNAL;
		snprintf(reply.error, sizeof(reply.error),
			 "malformed request: not one complete gRPC message");
	} else {
		m->handler(c->server->ctx, msg, len, &reply);
	}
	if (reply.msg && reply.status == GRPC_OK)
		append_frame(s, reply.msg, reply.len);
	free(reply.msg);
	s->status = reply.status;
	snprintf(s->error, sizeof(s->error), "%s", reply.error);
	s->streaming = reply.stream && reply.status == GRPC_OK;
	s->closing = !s->streaming;
	nghttp2_nv headers[] = {NV(":status", "200"), NV("content-type", "application/grpc")};
	nghttp2_data_provider data = {.source.ptr = s, .read_callback = read_out};
	nghttp2_submit_response(c->session, s->id, headers, 2, &data);
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
	struct conn *c = user;

	if (c->server && frame->hd.type == NGHTTP2_HEADERS &&
	    frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
		struct stream *s = stream_new(c, frame->hd.stream_id);
		if (!s)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, s);
	}
	return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
		     void *user)
{
	struct stream *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);

	if (!s)
		return 0;
	if (namelen == 5 && memcmp(name, ":path", 5) == 0)
		snprintf(s->path, sizeof(s->path), "%.*s", (int)valuelen, value);
	else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0)
		s->grpc_status = atoi((const char *)value);
	else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0)
		snprintf(s->error, sizeof(s->error), "%.*s", (int)valuelen, value);
	return 0;
}

static int on_data(nghttp2_session *session, uint8_t flags, int32_t id, const uint8_t *data,
		   size_t len, void *user)
{
	struct stream *s = nghttp2_session_get_stream_user_data(session, id);

	if (!s)
		return 0;
	if (s->in_len + len > MAX_MESSAGE + 5) {
		s->too_big = true;
		return 0;
	}
	return append(&s->in, &s->in_len, data, len) < 0 ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
}

static void finish_call(struct conn *c, struct stream *s)
{
	const uint8_t *msg = NULL;
	size_t len = 0;
	int status = s->grpc_status;

	if (c->finished)
		return;
	c->finished = true;
	if (status == GRPC_OK && parse_frame(s->in, s->in_len, &msg, &len) < 0)
		status = GRPC_INTERNAL;
	if (status < 0)
		status = GRPC_UNAVAILABLE;
	c->done(c->ctx, (enum grpc_status)status, s->error, msg, len);
}

static int on_frame(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
	struct conn *c = user;
	struct stream *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);

	if (!s || !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM) ||
	    (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA))
		return 0;
	if (c->server)
		dispatch(c, s);
	else
		finish_call(c, s);
	return 0;
}

static int on_close(nghttp2_session *session, int32_t id, uint32_t error, void *user)
{
	struct conn *c = user;
	struct stream *s = nghttp2_session_get_stream_user_data(session, id);

	if (!s)
		return 0;
	if (!c->server) {
		if (!c->finished) {
			c->finished = true;
			c->done(c->ctx, GRPC_UNAVAILABLE, "the stream closed before a reply", NULL,
				0);
		}
		c->dead = true;
	}
	stream_free(c, s);
	return 0;
}

static ssize_t on_send(nghttp2_session *session, const uint8_t *data, size_t len, int flags,
		       void *user)
{
	struct conn *c = user;
	ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);

	if (n < 0)
		return errno == EAGAIN ? NGHTTP2_ERR_WOULDBLOCK : NGHTTP2_ERR_CALLBACK_FAILURE;
	return n;
}

struct grpc_loop *grpc_loop_new(void)
{
	struct grpc_loop *l = calloc(1, sizeof(*l));

	if (!l || nghttp2_session_callbacks_new(&l->callbacks) != 0) {
		free(l);
		return NULL;
	}
	nghttp2_session_callbacks_set_send_callback(l->callbacks, on_send);
	nghttp2_session_callbacks_set_on_begin_headers_callback(l->callbacks, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(l->callbacks, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(l->callbacks, on_data);
	nghttp2_session_callbacks_set_on_frame_recv_callback(l->callbacks, on_frame);
	nghttp2_session_callbacks_set_on_stream_close_callback(l->callbacks, on_close);
	return l;
}

static void conn_free(struct conn *c)
{
	while (c->streams)
		stream_free(c, c->streams);
	nghttp2_session_del(c->session);
	close(c->fd);
	free(c);
}

static struct conn *conn_new(struct grpc_loop *l, int fd, struct grpc_server *server)
{
	struct conn *c = calloc(1, sizeof(*c));
	nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100}};

	if (!c)
		return NULL;
	c->fd = fd;
	c->server = server;
	int r = server ? nghttp2_session_server_new(&c->session, l->callbacks, c)
		       : nghttp2_session_client_new(&c->session, l->callbacks, c);
	if (r != 0) {
		free(c);
		return NULL;
	}
	nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings, 1);
	c->next = l->conns;
	l->conns = c;
	return c;
}

struct grpc_loop *grpc_loop_free(struct grpc_loop *l)
{
	if (!l)
		return NULL;
	while (l->conns) {
		struct conn *c = l->conns;
		l->conns = c->next;
		conn_free(c);
	}
	while (l->servers)
		grpc_server_close(l, l->servers);
	nghttp2_session_callbacks_del(l->callbacks);
	free(l);
	return NULL;
}

static int unix_address(const char *path, struct sockaddr_un *addr)
{
	if (strlen(path) >= sizeof(addr->sun_path))
		return -ENAMETOOLONG;
	*addr = (struct sockaddr_un){.sun_family = AF_UNIX};
	memcpy(addr->sun_path, path, strlen(path) + 1);
	return 0;
}

int grpc_server_listen(struct grpc_loop *l, const char *path, const struct grpc_method *methods,
		       void *ctx, struct grpc_server **ret)
{
	struct sockaddr_un addr;
	struct grpc_server *s;
	int r = unix_address(path, &addr);

	if (r < 0)
		return r;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 16) < 0 ||
	    !(s = calloc(1, sizeof(*s)))) {
		r = errno ? -errno : -ENOMEM;
		close(fd);
		return r;
	}
	s->fd = fd;
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->methods = methods;
	s->ctx = ctx;
	s->next = l->servers;
	l->servers = s;
	*ret = s;
	return 0;
}

void grpc_server_close(struct grpc_loop *l, struct grpc_server *s)
{
	for (struct conn *c = l->conns; c; c = c->next)
		if (c->server == s)
			c->dead = true;
	for (struct grpc_server **p = &l->servers; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	close(s->fd);
	unlink(s->path);
	free(s);
}

void grpc_server_broadcast(struct grpc_loop *l, struct grpc_server *s, const char *path,
			   const uint8_t *msg, size_t len)
{
	for (struct conn *c = l->conns; c; c = c->next) {
		if (c->server != s || c->dead)
			continue;
		for (struct stream *st = c->streams; st; st = st->next) {
			if (!st->streaming || strcmp(st->path, path) != 0)
				continue;
			append_frame(st, msg, len);
			if (st->deferred) {
				st->deferred = false;
				nghttp2_session_resume_data(c->session, st->id);
			}
		}
	}
}

int grpc_call(struct grpc_loop *l, const char *path, const char *method, const uint8_t *req,
	      size_t len, grpc_done done, void *ctx)
{
	struct sockaddr_un addr;
	int r = unix_address(path, &addr);

	if (r < 0)
		return r;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	struct conn *c = conn_new(l, fd, NULL);
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->done = done;
	c->ctx = ctx;
	struct stream *s = stream_new(c, 0);
	if (!s || append_frame(s, req, len) < 0) {
		c->dead = true;
		return -ENOMEM;
	}
	s->closing = true;
	nghttp2_nv headers[] = {NV(":method", "POST"),
				NV(":scheme", "http"),
				NV(":path", method),
				NV(":authority", "localhost"),
				NV("content-type", "application/grpc"),
				NV("te", "trailers")};
	nghttp2_data_provider data = {.source.ptr = s, .read_callback = read_out};
	int32_t id = nghttp2_submit_request(c->session, NULL, headers, 6, &data, s);
	if (id < 0) {
		c->dead = true;
		return -EIO;
	}
	s->id = id;
	return 0;
}

static void accept_all(struct grpc_loop *l, struct grpc_server *s)
{
	int fd;

	while ((fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0)
		if (!conn_new(l, fd, s))
			close(fd);
}

static void conn_read(struct conn *c)
{
	uint8_t buf[16384];
	ssize_t n;

	while ((n = recv(c->fd, buf, sizeof(buf), 0)) > 0)
		if (nghttp2_session_mem_recv(c->session, buf, (size_t)n) < 0) {
			c->dead = true; /* not HTTP/2: drop the connection, serve on */
			return;
		}
	if (n == 0 || (n < 0 && errno != EAGAIN))
		c->dead = true;
}

static void reap(struct grpc_loop *l)
{
	for (struct conn **p = &l->conns; *p;) {
		struct conn *c = *p;
		bool idle = !nghttp2_session_want_read(c->session) &&
			    !nghttp2_session_want_write(c->session);
		if (c->dead || idle) {
			if (!c->server && !c->finished) {
				c->finished = true;
				c->done(c->ctx, GRPC_UNAVAILABLE, "the connection closed", NULL, 0);
			}
			*p = c->next;
			conn_free(c);
		} else {
			p = &c->next;
		}
	}
}

int grpc_loop_run(struct grpc_loop *l, struct pollfd *extra, int nextra, int timeout_ms)
{
	struct pollfd fds[512];
	void *owner[512];
	int n = 0;

	for (struct conn *c = l->conns; c; c = c->next)
		nghttp2_session_send(c->session);
	reap(l);
	for (struct grpc_server *s = l->servers; s && n < 256; s = s->next, n++) {
		fds[n] = (struct pollfd){.fd = s->fd, .events = POLLIN};
		owner[n] = s;
	}
	int first_conn = n;
	for (struct conn *c = l->conns; c && n < 500 - nextra; c = c->next, n++) {
		fds[n] = (struct pollfd){.fd = c->fd, .events = POLLIN};
		if (nghttp2_session_want_write(c->session))
			fds[n].events |= POLLOUT;
		owner[n] = c;
	}
	int first_extra = n;
	for (int i = 0; i < nextra; i++)
		fds[n++] = extra[i];
	int r = poll(fds, (nfds_t)n, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < nextra; i++)
		extra[i].revents = fds[first_extra + i].revents;
	for (int i = 0; i < first_conn; i++)
		if (fds[i].revents & POLLIN)
			accept_all(l, owner[i]);
	for (int i = first_conn; i < first_extra; i++) {
		struct conn *c = owner[i];
		if (fds[i].revents & (POLLIN | POLLHUP | POLLERR))
			conn_read(c);
		if (!c->dead && nghttp2_session_send(c->session) != 0)
			c->dead = true;
	}
	reap(l);
	return r;
}
