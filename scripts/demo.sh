#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the demo program under the shim with `cuslice run --summary`: against
# the machine's GPU where there is one, else against fakecuda.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}

if nvidia-smi -L >/dev/null 2>&1; then
	echo "demo: using this machine's GPU"
else
	echo "demo: no GPU here; using fakecuda, the simulated driver the tests use"
	export LD_LIBRARY_PATH="$PWD/$build/tests/fakecuda${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
exec "$build/tools/cuslice" run --summary -- "$build/examples/cuslice-demo" "$@"
