/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "procstat.h"

int policy_stat_start_time(const char *stat, uint64_t *ret)
{
	/* comm (field 2) may hold spaces and parentheses: fields resume after the last ')' */
	const char *p = stat ? strrchr(stat, ')') : NULL;

	if (!p)
		return -EINVAL;
	p++;
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EINVAL;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(p + 1, &end, 10);
	if (errno || end == p + 1)
		return -EINVAL;
	*ret = v;
	return 0;
}

char policy_stat_state(const char *stat)
{
	const char *p = stat ? strrchr(stat, ')') : NULL;

	return p && p[1] == ' ' && p[2] ? p[2] : 0;
}
