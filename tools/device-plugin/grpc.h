/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Just enough gRPC for the device plugin API, over HTTP/2 (nghttp2) on unix
 * sockets: servers with unary and server-streaming methods, and unary
 * client calls, all driven by one poll loop. Messages are opaque bytes here
 * (protobuf-c encodes them); this layer does the 5-byte message framing,
 * the grpc-status trailers, UNIMPLEMENTED for unknown methods and INTERNAL for
 * malformed frames.
 */
#pragma once

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum grpc_status {
	GRPC_OK = 0,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_FAILED_PRECONDITION = 9,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14,
};

struct grpc_loop;
struct grpc_server;

/* A reply being built: the handler adds messages and sets the status. */
struct grpc_reply {
	uint8_t *msg; /* one message, malloc'd; the layer frees it */
	size_t len;
	enum grpc_status status;
	char error[256]; /* grpc-message when status != OK */
	bool stream;	 /* keep the call open: later messages come by broadcast */
};

typedef void (*grpc_handler)(void *ctx, const uint8_t *req, size_t len, struct grpc_reply *reply);

struct grpc_method {
	const char *path; /* "/v1beta1.DevicePlugin/Allocate" */
	grpc_handler handler;
};

struct grpc_loop *grpc_loop_new(void);
struct grpc_loop *grpc_loop_free(struct grpc_loop *l);

/* Serves `methods` (a NULL-path-terminated array) on a new unix socket at `path`. */
int grpc_server_listen(struct grpc_loop *l, const char *path, const struct grpc_method *methods,
		       void *ctx, struct grpc_server **ret);
void grpc_server_close(struct grpc_loop *l, struct grpc_server *s);

/* Sends a message to every open streaming call of `path` on `s`. */
void grpc_server_broadcast(struct grpc_loop *l, struct grpc_server *s, const char *path,
			   const uint8_t *msg, size_t len);

typedef void (*grpc_done)(void *ctx, enum grpc_status status, const char *message,
			  const uint8_t *resp, size_t len);

/* Starts a unary call to the server at the unix socket `path`; `done` runs
 * from grpc_loop_run() once it completes or fails. */
int grpc_call(struct grpc_loop *l, const char *path, const char *method, const uint8_t *req,
	      size_t len, grpc_done done, void *ctx);

/* Waits up to `timeout_ms` for I/O on the loop's sockets and `extra` fds
 * (revents filled in), and handles what is ready. */
int grpc_loop_run(struct grpc_loop *l, struct pollfd *extra, int nextra, int timeout_ms);
