/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tenant socket between the shim and cusliced. One exchange per process:
 * the shim says hello, the daemon answers with the tenant it found for the
 * connecting process (from the kernel: SO_PEERCRED, then the process's
 * cgroup v2 path; never from what the message says) and, on success, the
 * tenant's segment as an SCM_RIGHTS descriptor, and the node's board as a
 * second one.
 *
 * Both structs start with size and version; a reader takes only what `size`
 * covers, so older shims and newer daemons interoperate.
 */
#pragma once

#include <stdint.h>

#define CUSLICE_WIRE_VERSION 1
#define CUSLICE_TENANT_NAME_MAX 256

#define CUSLICE_MAX_CLAIMS 4
#define CUSLICE_CLAIM_MAX 48

struct cuslice_hello {
	uint32_t size;
	uint32_t version;
	uint32_t flags;
	uint32_t reserved;
	/* Claims the process presents (from files the device plugin mounted
	 * read-only into its container), NUL-terminated; the daemon binds each to
	 * the process's cgroup on first presentation and refuses it from any
	 * other. Empty strings: none. */
	char claims[CUSLICE_MAX_CLAIMS][CUSLICE_CLAIM_MAX];
};

#define CUSLICE_WELCOME_SEGMENT 1u /* a segment descriptor comes with the message */
#define CUSLICE_WELCOME_BOARD 2u   /* and the node's board after it (policy/board.h) */

struct cuslice_welcome {
	uint32_t size;
	uint32_t version;
	int32_t status; /* 0, or a negative errno saying why the daemon refused */
	uint32_t flags;
	char tenant[CUSLICE_TENANT_NAME_MAX]; /* on a refusal: why */
};
