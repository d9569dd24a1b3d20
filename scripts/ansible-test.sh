#!/usr/bin/env bash
# Run ansible-test on a copy of the collection at a physical ansible_collections/waldur/cloud path
# (scripts/workarounds.sh says why), with the Python of the given venv.
# Usage: scripts/ansible-test.sh VENV sanity|units [ansible-test args...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/workarounds.sh
venv=$PWD/$1; shift
dest=$(copy_collection_tree)
trap 'rm -rf "${dest%/ansible_collections/waldur/cloud}"' EXIT
# Without --python it tries every Python it knows and fails on the missing ones.
python_version=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
cd "$dest"
if [ "$1" = sanity ]; then
  # Sanity's virtualenvs are cached per user in ~/.ansible/test/venv, shared by every clone, and
  # ansible-test deletes one it finds without its marker file, which is also one that another
  # clone is creating. So one sanity run at a time per user (a run takes a minute or two).
  mkdir -p "$HOME/.ansible/test"
  exec 9> "$HOME/.ansible/test/waldur-cloud-sanity.lock"
  if ! flock -n 9; then
    echo "ansible-test sanity: waiting for another checkout's sanity run to end (shared ~/.ansible/test/venv)"
    flock 9
  fi
fi
PATH="$venv/bin:$PATH" "$venv/bin/ansible-test" "$@" --python "$python_version" --color no
