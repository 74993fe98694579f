/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Registers this process with cusliced. 0 with *ret_segment the tenant's
 * segment (or -1: no daemon on this machine, no quota) and *ret_board the
 * node's board (-1: the daemon sent none); a negative errno when a daemon
 * exists but cannot be used (said on stderr). */
int client_register(int *ret_segment, int *ret_board);
