#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Writes the CDI spec for this node's GPUs from cuslice.yaml.in.
#
#   deploy/cdi/generate.sh [OUTPUT]     (default /etc/cdi/cuslice.yaml)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-/etc/cdi/cuslice.yaml}
minors=$(for index in $(nvidia-smi --query-gpu=index --format=csv,noheader); do
	echo "$index $(nvidia-smi -i "$index" -q | awk '/Minor Number/ { print $NF }')"
done)
[ -n "$minors" ] || { echo "generate.sh: nvidia-smi lists no GPU" >&2; exit 1; }
{
	sed -n '/^cdiVersion/,/^devices:/p' "$here/cuslice.yaml.in"
	while read -r index minor; do
		sed -n '/^  - name:/,/^containerEdits:/p' "$here/cuslice.yaml.in" | sed '$d' |
			sed -e "s/@INDEX@/$index/" -e "s/@MINOR@/$minor/"
	done <<<"$minors"
	sed -n '/^containerEdits:/,$p' "$here/cuslice.yaml.in"
} >"$out.tmp"
mv "$out.tmp" "$out"
echo "generate.sh: wrote $out for $(wc -l <<<"$minors") GPU(s)"
