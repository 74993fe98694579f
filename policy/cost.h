/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Predicting a launch's GPU time from timed samples of earlier launches of
 * the same kernel and grid, and the profile files that seed the predictions
 * (`cuslice profile`).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLICY_COST_FIRST 4 /* samples that only lower the estimate */

/**
 * policy_cost_next() - the estimate after one more timed sample.
 * @old: the estimate so far, in ns (ignored when @samples is 0).
 * @samples: samples behind @old.
 * @floor: a lower bound (a profiled cost), or 0.
 * @ns: the new sample.
 *
 * The first POLICY_COST_FIRST samples keep their minimum (a first launch is
 * slow, and any launch may be timed while another context holds the GPU).
 * After that the estimate is the mean of the typical samples: one within a
 * quarter above the estimate, or any below it, moves it an eighth of the way,
 * so it follows clock changes; a sample further above was most likely timed
 * across another tenant's time slice and moves it 1/256 of the way, so only a
 * lasting change of the kernel's cost gets through. Never below @floor.
 */
uint32_t policy_cost_next(uint32_t old, uint32_t samples, uint32_t floor, uint32_t ns);

/* A profile file (`cuslice profile`): the first line is POLICY_PROFILE_HEADER,
 * then one kernel per line: "NS GRID SAMPLES NAME" — its GPU time alone at
 * full load in ns, its grid size in blocks, how many timed launches the
 * figure comes from, and the kernel's (mangled) name. */
#define POLICY_PROFILE_HEADER "# cuslice profile 1"

struct policy_profile_entry {
	uint32_t ns;
	uint64_t grid;
	uint32_t samples;
	const char *name; /* points into the parsed line */
};

/** policy_profile_parse() - parse one kernel line (its newline removed); 0 or -EINVAL. */
int policy_profile_parse(char *line, struct policy_profile_entry *ret);

/**
 * policy_profile_line() - line @lineno (from 1) of a profile file as getline()
 * read it: its newline is removed, line 1 must be the header.
 * Return: 1 for the header, 0 for a kernel (in *@ret), -EINVAL otherwise.
 */
int policy_profile_line(char *line, size_t lineno, struct policy_profile_entry *ret);

/** policy_profile_key() - the key of a kernel name and grid, the same in every process. */
uint64_t policy_profile_key(const char *name, uint64_t grid);
