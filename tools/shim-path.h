/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

/* Where libcuslice.so is: beside a build tree's tools/ folder when run from
 * the build, else the installed copy. 0 or a negative errno. */
int shim_path_find(char *ret_path, size_t size);
