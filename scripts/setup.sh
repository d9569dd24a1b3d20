#!/usr/bin/env bash
# Idempotent set-up of everything the demo and the tests need:
#   .venv       ansible-core 2.19 and every dev tool (requirements-dev.txt)
#   .venv-2.16  the oldest supported ansible-core, for ansible-test (requirements-test-2.16.txt)
#   the offline pip bootstrap that ansible-test needs on this kind of machine (one per pip version)
#   .cache/collections/ansible_collections/waldur/cloud -> the checkout, for playbooks and linters
# Usage: scripts/setup.sh [all|main]   (main: only .venv, enough for `make demo`)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
what=${1:-all}

# make_venv DIR REQUIREMENTS...: create DIR once, reinstall when the requirement files change.
make_venv() {
  local venv=$1; shift
  local stamp=$venv/.requirements.sha want
  want=$(cat "$@" requirements.txt | sha256sum | cut -d' ' -f1)
  if [ ! -x "$venv/bin/python" ]; then
    echo "setup: creating $venv"
    "$PYTHON" -m venv "$venv"
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: installing $* into $venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
    local args=()
    for requirements in "$@"; do args+=(-r "$requirements"); done
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "${args[@]}"
    echo "$want" > "$stamp"
  fi
}

make_venv .venv requirements-dev.txt
if [ "$what" = all ]; then
  make_venv .venv-2.16 requirements-test-2.16.txt
fi

# ansible-test bootstraps pip in each of its virtualenvs with a script from a host that is not
# PyPI (ansible/ansible#77304). Each ansible-core pins its own pip version in
# python_requirements.py (2.16: `pip='23.1.2',` in get_venv_packages; 2.19: `pip='24.2',`);
# the first such line is the default for current Pythons. Write our bootstrap under each name.
for requirements in .venv*/lib/python*/site-packages/ansible_test/_internal/python_requirements.py; do
  [ -f "$requirements" ] || continue
  version=$(sed -n "s/^ *pip='\([0-9][0-9.]*\)',.*\$/\1/p" "$requirements" | head -n1)
  if [ -z "$version" ]; then
    echo "setup: no pip version found in $requirements; ansible-test sanity may fail offline" >&2
    continue
  fi
  mkdir -p "$HOME/.ansible/test/cache"
  cp scripts/get_pip_bootstrap.py "$HOME/.ansible/test/cache/get_pip_${version//./_}.py"
done

# Playbooks, ansible-lint, molecule and antsibull-docs run from the checkout find the collection
# through this link.
mkdir -p .cache/collections/ansible_collections/waldur
ln -sfn ../../../.. .cache/collections/ansible_collections/waldur/cloud
