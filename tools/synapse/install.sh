#!/bin/sh
# install.sh DEST — builds the pinned Synapse into a Python venv at DEST.
#
# Used by `make synapse` and, when RATHAUS_SYNAPSE_PYTHON is unset, by
# internal/tesths (which holds a file lock around it). Every package comes
# from requirements.txt, checked against its hashes, as a wheel: nothing is
# compiled, so no Rust or C toolchain is needed. The venv is built under a
# temporary name and renamed once `import synapse.synapse_rust` works, so a
# half-built venv is never used. After the rename only bin/python may be
# called (the scripts in bin/ keep the temporary path in their #! line):
# use `DEST/bin/python -m pip`, not `DEST/bin/pip`.
#
# PYTHON (default python3) is the interpreter the venv is made from; on
# Debian it needs the python3-venv package.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 DEST" >&2
	exit 2
fi
dest=$1
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
tmp=$dest.tmp-$$

rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$(dirname "$dest")"

if ! "$python" -m venv "$tmp"; then
	echo "$0: $python cannot create a venv; on Debian: apt-get install python3-venv" >&2
	exit 1
fi
"$tmp/bin/python" -m pip install --quiet --disable-pip-version-check \
	--require-hashes --only-binary=:all: --no-deps \
	-r "$here/requirements.txt"
"$tmp/bin/python" -c 'import synapse.synapse_rust'
# synapse.__version__ would add the git state of the working directory.
"$tmp/bin/python" -c 'import importlib.metadata as m; print(m.version("matrix-synapse"))' \
	>"$tmp/synapse-version"

rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
