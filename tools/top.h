/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* `cuslice top …`; argv[0] is "top". Returns the exit status. */
int cuslice_top(int argc, char **argv);
