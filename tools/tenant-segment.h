/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tenant segment of `cuslice run` (embedded mode): made here, handed to
 * the command's processes by name (CUSLICE_SEGMENT), and watched while the
 * command runs so that a process that dies, even by SIGKILL, gives its
 * reservations back at once.
 */
#pragma once

#include <sys/types.h>

#include "policy/segment.h"

struct tenant_segment;

/* A sealed-size memfd holding a fresh segment of `ndevices` devices. */
struct tenant_segment *tenant_segment_new(uint32_t ndevices);
struct tenant_segment *tenant_segment_free(struct tenant_segment *t);

struct cuslice_segment *tenant_segment_data(struct tenant_segment *t);

/* The path a process of the tenant opens: /proc/<this pid>/fd/<fd>. */
const char *tenant_segment_path(struct tenant_segment *t);

/* Waits for `child` to exit, giving back the reservations of every tenant
 * process that exits meanwhile. Returns the wait status of `child`. */
int tenant_segment_wait(struct tenant_segment *t, pid_t child);
