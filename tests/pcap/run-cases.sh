#!/bin/sh
# Automake test: runs every case in tests/pcap/cases (see run_cases.py).
# Env from `make check`: CARACAL, TOP_SRCDIR, TOP_BUILDDIR; defaults: ./src/caracal, repo root.
here=$(cd "$(dirname "$0")" && pwd)
: "${TOP_SRCDIR:=$(cd "$here/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
: "${CARACAL:=$TOP_BUILDDIR/src/caracal}"
TZ=UTC
export TOP_SRCDIR TOP_BUILDDIR CARACAL TZ
if command -v python3 >/dev/null 2>&1; then py=python3; else py=/usr/bin/python3; fi
exec "$py" "$here/run_cases.py" "$@"
