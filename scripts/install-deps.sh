#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what building and testing cuslice needs, from Debian's packages.
# The CUDA driver API headers come from the machine's CUDA toolkit
# (/usr/local/cuda/include; see meson_options.txt), never from this repo.
set -euo pipefail

packages=(
	gcc
	meson
	ninja-build
	pkg-config
	libcmocka-dev   # unit and integration tests
	libjson-c-dev   # the CLI reads the shim's stats; tests parse them
	valgrind        # bench/launch/callgrind.sh: instructions per launch
	python3         # tests/gpu and bench helpers
	clang           # kmod-helper: the BPF programs
	bpftool         # kmod-helper: vmlinux.h and the libbpf skeleton
	libbpf-dev      # cusliced loads the BPF programs with libbpf
	libelf-dev      # libbpf's own dependency (static builds)
	zlib1g-dev      # the same
	libnghttp2-dev  # cuslice-device-plugin: HTTP/2 for its gRPC
	libprotobuf-c-dev protobuf-c-compiler # cuslice-device-plugin: the kubelet's messages
	python3-grpcio python3-grpc-tools python3-protobuf # tests/k8s: the fake kubelet
	python3-yaml    # tests/k8s: the deploy files parse
	libmicrohttpd-dev # cusliced: /metrics
	python3-prometheus-client # tests/observe: parses /metrics
	tmux            # tests/observe: cuslice top on a real terminal
	chromium        # tests/observe: renders cuslice report's page headless
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#packages[@]} packages present"
	exit 0
fi
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
