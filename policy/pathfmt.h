/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/**
 * policy_path_expand() - expand a per-process file name template.
 * @template: path in which "%p" stands for the process id and "%%" for "%".
 * @pid: the process id to substitute.
 * @ret_path: buffer written on success only.
 * @size: size of @ret_path.
 *
 * Return: 0; -EINVAL for an empty template or a "%" followed by anything
 * else; -ENAMETOOLONG when the result does not fit.
 */
int policy_path_expand(const char *template, pid_t pid, char *ret_path, size_t size);
