#!/bin/bash
# Builds nfqlb from the repository root: autogen when ./configure is missing
# or older than configure.ac, configure (with --enable-werror, as CI builds)
# when not yet configured that way, then make.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x configure || configure.ac -nt configure ]]; then
	./autogen.sh
fi
if [[ ! -f Makefile || configure -nt config.status ]] ||
	! ./config.status --config | grep -q -- '--enable-werror'; then
	./configure --enable-werror
fi
make -j2
