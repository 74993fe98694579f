/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy/board.h"
#include "policy/segment.h"

/* Maps CUSLICE_SEGMENT once. 0 (also when there is none), or a negative
 * errno: the segment is unusable and CUDA must be refused. */
int tenant_attach(void);

/* The mapped segment; NULL when this process has no quota. */
struct cuslice_segment *tenant_segment(void);

/* The node's board cusliced handed out with the segment; NULL: none. */
struct cuslice_board *tenant_board(void);

/* Whether cusliced handed out the segment (it may change the pacing at any
 * time); else it is `cuslice run`'s, fixed from the start. */
bool tenant_from_daemon(void);

/* This process's slot, claimed on first use (again after a fork). */
struct cuslice_proc *tenant_self(void);

/* After fork: the child holds none of its parent's slot. */
void tenant_forget(void);

/* Gives back what dead processes of the tenant held. Returns the bytes. */
uint64_t tenant_reap(void);

/* Returns this process's reservations at exit. */
void tenant_detach(void);

int tenant_start_time(pid_t pid, uint64_t *ret);
