#!/usr/bin/env bash
# install-deps.sh — installs the Debian packages caracal needs to build and
# test. Idempotent: when every package is already installed it does nothing
# (no apt-get at all), so it is cheap to call from other scripts.
#
# Run as root (or with sudo available) on Debian 12. Set CARACAL_DEPS_QUIET=1
# to silence the "already installed" line.
set -euo pipefail

arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
case $arch in
    amd64|x86_64) hs_pkg=libhyperscan-dev ;;   # Hyperscan is x86-64 only
    *)            hs_pkg=libvectorscan-dev ;;  # same API, other CPUs
esac

build_pkgs=(
    build-essential autoconf automake libtool pkg-config
    libpcap-dev libnetfilter-queue-dev "$hs_pkg" libyaml-dev libjansson-dev
    libhtp-dev zlib1g-dev libpcre2-dev libcmocka-dev
)
test_pkgs=(
    python3 python3-scapy python3-jsonschema tshark tcpreplay clang libclang-rt-14-dev time
    curl iptables iproute2
)

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: this script needs a Debian system (dpkg and apt-get); install by hand:" >&2
    echo "  ${build_pkgs[*]} ${test_pkgs[*]}" >&2
    exit 1
fi

missing=()
for p in "${build_pkgs[@]}" "${test_pkgs[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    [ "${status:0:2}" = ii ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    [ "${CARACAL_DEPS_QUIET:-0}" = 1 ] || echo "install-deps: all packages already installed"
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        echo "install-deps: not root and no sudo; run as root: $0" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer "no" up front.
echo 'wireshark-common wireshark-common/install-setuid boolean false' |
    "${sudo[@]}" debconf-set-selections

"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" >/dev/null
echo "install-deps: done"
