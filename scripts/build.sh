#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the dependencies, configures the meson build in ./build (or $1)
# and compiles it.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}

scripts/install-deps.sh
if [ ! -f "/usr/local/cuda/include/cuda.h" ] && [ -z "${CUSLICE_DRIVER_HEADERS:-}" ]; then
	echo "build: no cuda.h in /usr/local/cuda/include; install the CUDA toolkit headers or set CUSLICE_DRIVER_HEADERS=DIR" >&2
	exit 1
fi
opts=()
[ -n "${CUSLICE_DRIVER_HEADERS:-}" ] && opts+=("-Ddriver_headers=$CUSLICE_DRIVER_HEADERS")
if [ -f "$build/build.ninja" ]; then
	meson setup --reconfigure "$build" "${opts[@]}" >/dev/null
else
	meson setup "$build" "${opts[@]}"
fi
meson compile -C "$build"
