/* SPDX-License-Identifier: Apache-2.0 */
/* Spatial partitions (partition.c): green contexts on the tenant's SM groups. */
#pragma once

#include "shim.h"

/* Whether the tenant's work on CUDA device `dev` is held to an SM partition. */
bool partition_active(CUdevice dev);
/* After a successful primary retain: replaces *pctx by the partition's green
 * context (made once per device). On failure the retain is undone. */
CUresult partition_primary(CUcontext *pctx, CUdevice dev);
/* cuCtxCreate on a partitioned device: a green context of its own, made current. */
CUresult partition_new_context(CUcontext *pctx, CUdevice dev);
/* cuCtxDestroy of a context partition_new_context made: destroys its green
 * context, `*rc` the driver's answer; false for any other context. */
bool partition_destroy(CUcontext ctx, CUresult *rc);
/* Whether work made in `ctx` may have to move to new SMs: it is a stand-in
 * (or was one), and cusliced moves running processes (graphs.c then keeps a
 * copy of its graphs). */
bool partition_movable(CUcontext ctx);
/* Whether `ctx` is a green context the partition made (a stand-in, one retired, or
 * one made for cuCtxCreate). */
bool partition_green(CUcontext ctx);
/* Before a primary reset: the stand-in goes too (made again on the next retain). */
void partition_primary_reset(CUdevice dev);
/* Before the driver loads: join the MPS server the daemon named, if any. */
void partition_join_mps(void);
/* A fatal GPU error: written once to the segment for the daemon. */
bool partition_fatal(CUresult rc);
void partition_fault(CUresult rc);
void partition_forget_all(void);
