/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* `cuslice events …`; argv[0] is "events". Returns the process exit status. */
int cuslice_events(int argc, char **argv);
