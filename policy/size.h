/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing VRAM sizes and per-device quota lists, as given on command lines. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "segment.h"

/* What every size error ends with: the accepted forms. */
#define POLICY_SIZE_FORMS                                                                 \
	"use KiB, MiB, GiB or TiB (\"8GiB\", \"1.5GiB\"), a plain number of bytes, or a " \
	"percentage of the device (\"50%\")"

/**
 * policy_size_parse() - parse one size.
 * @text: "8GiB", "512MiB", "1.5GiB", "1073741824", "50%".
 * @device_total: the device's memory, for percentages and the upper bound.
 * @ret_bytes: written on success only.
 * @err: on failure, one line saying what was wrong and the accepted forms.
 *
 * Return: 0, or -EINVAL (bad form, zero), -ERANGE (larger than the device).
 */
int policy_size_parse(const char *text, uint64_t device_total, uint64_t *ret_bytes, char *err,
		      size_t errlen);

struct policy_vram {
	uint32_t ndevices;
	bool per_device;		     /* given as "0=20GiB,1=10GiB" */
	uint64_t bytes[CUSLICE_MAX_DEVICES]; /* 0 where no quota was given */
};

/**
 * policy_vram_parse() - parse a --vram value: one SIZE for every device, or
 * a list "DEVICE=SIZE,..." (devices left out get no memory at all).
 * @device_totals: memory of each of the @ndevices devices.
 * @ret: written on success only.
 *
 * Return: 0, or a negative errno with @err set.
 */
int policy_vram_parse(const char *text, const uint64_t *device_totals, uint32_t ndevices,
		      struct policy_vram *ret, char *err, size_t errlen);

/** policy_size_format() - "10.0 GiB"-style text for `bytes`. */
void policy_size_format(uint64_t bytes, char *out, size_t size);
