/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* `cuslice get|set|describe …`: argv[0] is the verb. Returns the exit status. */
int cuslice_admin(int argc, char **argv);
