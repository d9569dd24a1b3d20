#!/usr/bin/env bash
# Run ansible-test on a copy of the collection: it needs a physical path ending in
# ansible_collections/waldur/cloud outside any git repository (see ../shared/TOOLCHAIN.md).
# Usage: scripts/ansible-test.sh VENV sanity|units [ansible-test args...]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$1; shift
tree=$(mktemp -d /tmp/waldur-ansible-test.XXXXXX)
trap 'rm -rf "$tree"' EXIT
dest=$tree/ansible_collections/waldur/cloud
mkdir -p "$dest"
git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$dest"
cd "$dest"
PATH="$OLDPWD/$venv/bin:$PATH" "$OLDPWD/$venv/bin/ansible-test" "$@" --python 3.11 --color no
