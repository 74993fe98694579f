/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel cost profiles (profile.c): CUSLICE_PROFILE seeds the launch gate's
 * cost model from a file that `cuslice profile` recorded; CUSLICE_PROFILE_OUT
 * makes this process record one. Profiles name kernels, since function
 * handles differ from process to process.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "shim.h"

extern SHIM_HIDDEN bool profile_recording; /* CUSLICE_PROFILE_OUT is set and usable */
extern SHIM_HIDDEN bool profile_loaded;	   /* CUSLICE_PROFILE was read */

/* Read CUSLICE_PROFILE and check CUSLICE_PROFILE_OUT, once, before the driver
 * is used: 0, or a negative errno after one line on stderr. */
int profile_setup(void);

/* The name of the kernel a launch names (a CUfunction or a CUkernel), or NULL. */
const char *profile_kernel_name(const void *what);

/* The profiled GPU time of the kernel with this policy_profile_key(). */
bool profile_lookup(uint64_t key, uint32_t *ret_ns);

/* At exit: write what this process learned to CUSLICE_PROFILE_OUT. */
void profile_write(void);

/* gate.c: one line per named kernel with its learned cost. */
void gate_profile_lines(FILE *f);
