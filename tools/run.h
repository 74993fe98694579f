/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* `cuslice run …`; argv[0] is "run". Returns the process exit status. */
int cuslice_run(int argc, char **argv);
