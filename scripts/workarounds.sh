# shellcheck shell=bash
# The two things this kind of machine (offline but for package registries, no container engine)
# needs done by hand, in one place. Sourced by setup.sh, ansible-test.sh and test.sh.
#
# 1. ansible-test bootstraps pip in each virtualenv it makes with a get-pip script downloaded from
#    a host that is not a package registry (ansible/ansible#77304). It first looks in its cache,
#    ~/.ansible/test/cache/get_pip_<version>.py, so we put there a stand-in that installs pip
#    from the package index (scripts/get_pip_bootstrap.py). Each ansible-core pins its pip version
#    in python_requirements.py (`pip='24.2',`); one stand-in per version found in our venvs.
# 2. ansible-test (and `antsibull-changelog release`) must run in a directory whose physical path
#    ends in ansible_collections/waldur/cloud, outside any git repository: a symlink does not
#    count, and a copy inside the checkout is found to be in git and its files are listed by git.
#    We copy the files git knows (tracked and untracked, not ignored) to such a temporary tree.

# install_ansible_test_pip_bootstrap: workaround 1, for every .venv* of the checkout.
install_ansible_test_pip_bootstrap() {
  local requirements version target staged
  for requirements in .venv*/lib/python*/site-packages/ansible_test/_internal/python_requirements.py; do
    [ -f "$requirements" ] || continue
    version=$(sed -n "s/^ *pip='\([0-9][0-9.]*\)',.*\$/\1/p" "$requirements" | head -n1)
    if [ -z "$version" ]; then
      echo "setup: no pip version found in $requirements; ansible-test sanity may fail offline" >&2
      continue
    fi
    mkdir -p "$HOME/.ansible/test/cache"
    target=$HOME/.ansible/test/cache/get_pip_${version//./_}.py
    # Shared by every clone of this user: written whole and renamed into place, so that an
    # ansible-test of another clone never reads it half written.
    if ! cmp -s scripts/get_pip_bootstrap.py "$target"; then
      staged=$(mktemp "$target.XXXXXX")
      cp scripts/get_pip_bootstrap.py "$staged"
      mv -f "$staged" "$target"
    fi
  done
}

# copy_collection_tree: workaround 2. Prints the path of a fresh copy of the checkout at
# <tmp>/ansible_collections/waldur/cloud; the caller removes <tmp> (three levels up).
copy_collection_tree() {
  local tree dest
  tree=$(mktemp -d /tmp/waldur-collection.XXXXXX)
  dest=$tree/ansible_collections/waldur/cloud
  mkdir -p "$dest"
  git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$dest"
  echo "$dest"
}
