#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Installs the Debian packages a role needs when they are missing.
#   mk/deps.sh build   compilers and make
#   mk/deps.sh test    build + what the functional tests use
#   mk/deps.sh bench   test + the peers of bench/host (iperf3)
# As root it installs with apt-get; otherwise it names what is missing and
# returns 1 so the caller can stop with a clear message.
set -u
build=(make gcc clang libc6-dev pkg-config libxdp-dev libbpf-dev libelf-dev zlib1g-dev bpftool)
test=("${build[@]}" iproute2 procps util-linux ethtool python3 iputils-ping)
bench=("${test[@]}" iperf3)
case ${1:-build} in
build) want=("${build[@]}") ;;
test) want=("${test[@]}") ;;
bench) want=("${bench[@]}") ;;
*) echo "deps.sh: unknown role '$1' (build|test|bench)" >&2; exit 2 ;;
esac
missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "missing Debian packages: ${missing[*]} (run as root to install them)" >&2
	exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
