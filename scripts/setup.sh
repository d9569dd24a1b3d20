#!/usr/bin/env bash
# Idempotent set-up of everything the demo and the tests need:
#   .venv       ansible-core 2.19 and every dev tool (requirements-dev.txt)
#   .venv-2.16  the oldest supported ansible-core, for ansible-test (requirements-test-2.16.txt)
#   .venv-2.21  the newest ansible-core, which needs Python 3.12+ (requirements-test-2.21.txt)
#   .venv-importer  galaxy-importer, what Galaxy runs on upload (requirements-importer.txt)
#   the offline pip bootstrap that ansible-test needs on this kind of machine (scripts/workarounds.sh)
#   .cache/collections/ansible_collections/waldur/cloud -> the checkout, for playbooks and linters
#   ansible.cfg and the end of .venv/bin/activate: Ansible run from this checkout, or from anywhere
#   with .venv activated, finds waldur.cloud there with no further step
# Usage: scripts/setup.sh [all|main]   (main: only .venv, enough for `make demo`)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/workarounds.sh
PYTHON=${PYTHON:-python3}
what=${1:-all}

# make_venv PYTHON DIR REQUIREMENTS...: create DIR once, reinstall when the requirement files change.
make_venv() {
  local python=$1 venv=$2; shift 2
  local stamp=$venv/.requirements.sha want
  want=$( (cat "$@" requirements.txt; "$python" -V) | sha256sum | cut -d' ' -f1)
  if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: creating $venv with $("$python" -V)"
    rm -rf "$venv"
    "$python" -m venv "$venv"
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

# newest_python: a Python 3.12 or newer, as a user's machine has it: $PYTHON_NEWEST, python3.13 or
# python3.12 on PATH, else a pyenv version (whose shims answer only when that version is selected).
newest_python() {
  local candidate
  for candidate in ${PYTHON_NEWEST:-} python3.13 python3.12 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3; do
    if "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

make_venv "$PYTHON" .venv requirements-dev.txt
if [ "$what" = all ]; then
  make_venv "$PYTHON" .venv-2.16 requirements-test-2.16.txt
  if ! newest=$(newest_python); then
    echo "setup: ansible-core 2.21 needs Python 3.12 or newer, and none was found (looked for" \
      "\$PYTHON_NEWEST, python3.13 and python3.12 on PATH, and pyenv's versions). Install one" \
      "(\`pyenv install 3.12\`, or your distribution's python3.12 package), or set PYTHON_NEWEST" \
      "to its path." >&2
    exit 1
  fi
  make_venv "$newest" .venv-2.21 requirements-test-2.21.txt
  make_venv "$PYTHON" .venv-importer requirements-importer.txt
fi

install_ansible_test_pip_bootstrap

# Playbooks, ansible-lint, molecule and antsibull-docs run from the checkout find the collection
# through this link.
mkdir -p .cache/collections/ansible_collections/waldur
ln -sfn ../../../.. .cache/collections/ansible_collections/waldur/cloud

# The collections path of a user of this checkout: the link above, then Ansible's usual places.
# Two ways to it, written here so that `make demo` is the only step before the guides:
#  - ansible.cfg (git-ignored, kept out of the tarball by galaxy.yml): any ansible-* command run
#    from the checkout's root, with or without the venv activated; a path in it is relative to it.
#  - .venv/bin/activate (bash, zsh) exports ANSIBLE_COLLECTIONS_PATH, worked out from where the
#    script is sourced: with the venv activated, from any directory; ansible-rulebook needs it, as
#    it runs playbooks in a directory of its own.
config_marker="# Written by scripts/setup.sh"
if [ ! -e ansible.cfg ] || head -n1 ansible.cfg | grep -qF "$config_marker"; then
  cat > ansible.cfg <<CONFIG
$config_marker (make setup); not tracked by git, not in the collection's tarball.
# Ansible run from this checkout finds waldur.cloud in it, then in the usual places.
[defaults]
collections_path = .cache/collections:~/.ansible/collections:/usr/share/ansible/collections
CONFIG
else
  echo "setup: ansible.cfg is yours, so it is left as it is; to find waldur.cloud from this checkout," \
    "add .cache/collections first to collections_path in its [defaults] section" >&2
fi

activate=.venv/bin/activate
begin="# >>> waldur.cloud: scripts/setup.sh >>>" end="# <<< waldur.cloud: scripts/setup.sh <<<"
block=$(cat <<'ACTIVATE'
# Ansible run with this venv finds waldur.cloud in the checkout whose .venv/bin/activate was
# sourced, then in the usual places (the path is worked out here, so a venv shared by several
# checkouts through a link serves each of them).
_waldur_activate=
if [ -n "${ZSH_VERSION:-}" ]; then eval '_waldur_activate=${(%):-%x}'; elif [ -n "${BASH_VERSION:-}" ]; then eval '_waldur_activate=${BASH_SOURCE[0]}'; fi
if [ -n "$_waldur_activate" ]; then
  ANSIBLE_COLLECTIONS_PATH="$(CDPATH= cd "$(dirname "$_waldur_activate")/../.." && pwd)/.cache/collections:$HOME/.ansible/collections:/usr/share/ansible/collections"
  export ANSIBLE_COLLECTIONS_PATH
fi
unset _waldur_activate
ACTIVATE
)
if [ -f "$activate" ]; then
  kept=$(awk -v begin="$begin" -v end="$end" '$0 == begin {skip = 1} !skip {print} $0 == end {skip = 0}' "$activate")
  wanted=$(printf '%s\n%s\n%s\n%s' "$kept" "$begin" "$block" "$end")
  if [ "$(cat "$activate")" != "$wanted" ]; then
    printf '%s\n' "$wanted" > "$activate.new" && mv "$activate.new" "$activate"
  fi
fi
