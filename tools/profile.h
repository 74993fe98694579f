/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

/* `cuslice profile …`; argv[0] is "profile". Returns the process exit status. */
int cuslice_profile(int argc, char **argv);

/* Checks that PATH is a profile (see policy/cost.h); 0, or -errno with the
 * reason in `err`. */
int profile_check(const char *path, char *err, size_t size);
