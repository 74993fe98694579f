/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdio.h>

/* Sums the stats files (stats.<pid>.json) in `dir` and prints a summary of
 * what the shim saw to `out`. 0, or a negative errno if `dir` is unreadable. */
int stats_summary_print(const char *dir, FILE *out);

/* Removes the stats files in `dir`, then `dir` itself if it is left empty. */
void stats_dir_remove(const char *dir);
