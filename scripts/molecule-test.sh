#!/usr/bin/env bash
# The molecule stage: `molecule test` for each scenario of extensions/molecule (or those named),
# one after the other, each with its ephemeral directory inside this checkout
# (.cache/molecule/SCENARIO). When a scenario fails, prints its emulator's log, which `destroy` keeps.
#
#   scripts/molecule-test.sh [SCENARIO...]     (after `make setup`; `make molecule` runs them all)
#
# Why not `molecule test --all`: molecule (26.x) keeps a scenario's state, inventory and files in
# ~/.ansible/tmp/molecule.<hash of the checkout directory's *basename*>.<scenario>, so two clones
# named alike on one machine share it. One clone's `destroy` then stopped the other's emulator in the
# middle of its converge (Connection refused) and its final prune removed the other's files, and a
# `created: true` left by one makes the other skip `create`. MOLECULE_EPHEMERAL_DIRECTORY, which
# molecule honours whatever its default, is one directory for every scenario it runs: hence one run
# per scenario. The emulator's own files are keyed by the checkout's path as well (config.yml's
# emulator_dir), so a plain `molecule test` from another clone cannot reach them either.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$root/.cache/collections"

scenarios=("$@")
if [ ${#scenarios[@]} = 0 ]; then
  for file in extensions/molecule/*/molecule.yml; do
    scenarios+=("$(basename "$(dirname "$file")")")
  done
fi
for scenario in "${scenarios[@]}"; do
  # Molecule looks for a scenario named `default` first, for state that scenarios may share, and
  # logs "CRITICAL '.../default/molecule.yml' glob failed" when there is none, then goes on. A stub
  # `default` would share this run's ephemeral directory and warn instead: the line is dropped here.
  if ! MOLECULE_EPHEMERAL_DIRECTORY="$root/.cache/molecule/$scenario" molecule test -s "$scenario" 2>&1 |
    { grep --line-buffered -v "/default/molecule.yml' glob failed" || true; }; then
    log=$root/.cache/molecule-emulator/$scenario/emulator.log
    if [ -s "$log" ]; then
      printf '\n=== molecule scenario %s failed; its emulator log (%s):\n' "$scenario" "$log" >&2
      cat "$log" >&2
    else
      printf '\n=== molecule scenario %s failed; its emulator wrote no log (%s)\n' "$scenario" "$log" >&2
    fi
    exit 1
  fi
done
