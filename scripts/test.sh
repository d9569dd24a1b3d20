#!/usr/bin/env bash
# Every test of the collection, in order of speed; stops at the first failing stage.
set -euo pipefail
cd "$(dirname "$0")/.."
export ANSIBLE_COLLECTIONS_PATH="$PWD/.cache/collections"
export ANSIBLE_PYTHON_INTERPRETER="$PWD/.venv/bin/python"

stage() { printf '\n=== %s\n' "$*"; }

stage "pytest: unit, emulator fidelity and integration tests"
.venv/bin/python -m pytest tests/unit tests/fidelity tests/integration -q -p no:cacheprovider

stage "ansible-test sanity (ansible-core $(.venv/bin/python -c 'import ansible; print(ansible.__version__)'))"
bash scripts/ansible-test.sh .venv sanity --local

stage "ansible-test units"
bash scripts/ansible-test.sh .venv units --local

stage "all tests passed"
