#!/usr/bin/env bash
# Idempotent set-up: the virtualenv .venv with everything the demo and the tests need, and the
# offline pip bootstrap that ansible-test needs on this kind of machine.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=.venv
stamp=$VENV/.requirements.sha
want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -r requirements-dev.txt
  echo "$want" > "$stamp"
fi
# ansible-test bootstraps pip in each of its virtualenvs with a script from a host that is not PyPI.
for requirements in "$VENV"/lib/python*/site-packages/ansible_test/_internal/python_requirements.py; do
  version=$(sed -n "s/^ *pip='\([0-9.]*\)',\$/\1/p" "$requirements" | head -n1)
  [ -n "$version" ] || continue
  mkdir -p "$HOME/.ansible/test/cache"
  cp scripts/get_pip_bootstrap.py "$HOME/.ansible/test/cache/get_pip_${version//./_}.py"
done
# Playbooks run from the checkout find the collection through this link.
mkdir -p .cache/collections/ansible_collections/waldur
ln -sfn ../../../.. .cache/collections/ansible_collections/waldur/cloud
