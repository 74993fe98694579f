/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* `cuslice get|set|describe …`: argv[0] is the verb. Returns the exit status. */
int cuslice_admin(int argc, char **argv);

#include <json-c/json.h>

/* Sends one request to cusliced's admin socket; its reply, or NULL (said on stderr). */
/* $CUSLICE_ADMIN_SOCKET, else /run/cuslice/admin.sock. */
const char *admin_socket_default(void);

json_object *admin_ask(const char *socket_path, json_object *request);
