/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cost.h"

uint32_t policy_cost_next(uint32_t old, uint32_t samples, uint32_t floor, uint32_t ns)
{
	int64_t next;

	if (samples == 0)
		next = ns;
	else if (samples < POLICY_COST_FIRST)
		next = ns < old ? ns : old;
	else if ((uint64_t)ns <= (uint64_t)old + old / 4)
		next = (int64_t)old + ((int64_t)ns - old) / 8;
	else
		next = (int64_t)old + ((int64_t)ns - old) / 256;
	if (next < floor)
		next = floor;
	return next > 0 ? (uint32_t)next : 1;
}

int policy_profile_parse(char *line, struct policy_profile_entry *ret)
{
	unsigned long long ns, grid, samples;
	int name_at = 0, name_end = 0;

	if (sscanf(line, "%llu %llu %llu %n%*s%n", &ns, &grid, &samples, &name_at, &name_end) !=
		    3 ||
	    !name_end || line[name_end] || ns == 0 || ns > UINT32_MAX || grid == 0 ||
	    samples > UINT32_MAX)
		return -EINVAL;
	*ret = (struct policy_profile_entry){.ns = (uint32_t)ns,
					     .grid = grid,
					     .samples = (uint32_t)samples,
					     .name = line + name_at};
	return 0;
}

int policy_profile_line(char *line, size_t lineno, struct policy_profile_entry *ret)
{
	size_t len = strlen(line);

	if (len && line[len - 1] == '\n')
		line[len - 1] = '\0';
	if (lineno == 1)
		return strcmp(line, POLICY_PROFILE_HEADER) == 0 ? 1 : -EINVAL;
	return policy_profile_parse(line, ret);
}

uint64_t policy_profile_key(const char *name, uint64_t grid)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return (h ^ grid) * 0x9e3779b97f4a7c15ull;
}
