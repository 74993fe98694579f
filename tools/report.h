/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* `cuslice report …`; argv[0] is "report". Returns the process exit status. */
int cuslice_report(int argc, char **argv);
