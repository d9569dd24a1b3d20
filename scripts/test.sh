#!/usr/bin/env bash
# Every test of the collection: `make test`, and CI through .ci/run. The stages run one after the
# other in the order below; the first failure stops the run, and a table of stage times is printed
# at the end either way. Three venvs (scripts/setup.sh): .venv has ansible-core 2.19 and every tool,
# .venv-2.16 and .venv-2.21 the oldest and the newest supported ansible-core.
#
#   changelog     antsibull-changelog lint, and a trial release in a copy (every module announced)
#   nox           antsibull-nox (noxfile.py, antsibull-nox.toml): docs-check (antsibull-docs lint,
#                 references validated), extra-checks (no unwanted files, action groups),
#                 build-import-check (galaxy build from a clean copy)
#   ansible-lint  production profile: plugins, playbooks/, docs/examples/, extensions/
#   pytest        unit, emulator fidelity and integration tests (ansible-playbook, ansible-inventory,
#                 ansible-runner against the emulator), ansible-core 2.19
#   pytest-2.21   the integration tests that can depend on ansible-core, on 2.21 (but the
#                 ansible-rulebook end-to-end test: a decision environment has its own ansible-core)
#   sanity-2.19   ansible-test sanity, no ignore file; also -2.21 and -2.16, which skip what cannot differ
#   units-2.19    ansible-test units; also -2.21 and -2.16, on the unit tests that reach ansible-core
#   examples      every plugin's EXAMPLES, docs/examples/ and the guides' playbooks against the
#                 emulator, linted; then the README and every guide as a new user runs them, after
#                 `make demo` in a fresh copy (tests/guides); examples-2.21 runs the first part
#                 (unlinted) on ansible-core 2.21
#   molecule      extensions/molecule: one scenario per module and one for the inventory plugin, each
#                 with its files in this checkout (scripts/molecule-test.sh says why)
#   galaxy        build the tarball, check its content, install it, use only the installed copy
#   ee            ansible-builder introspect, then the execution environment and decision
#                 environment images built with ansible-builder and podman (tests/containers: a base
#                 from Debian's packages, kept with the images in the user's podman storage), a job and
#                 an inventory sync run in the EE as AWX runs them (read with AWX's own mem_inventory),
#                 the example rulebook in the DE. Without podman, runc or debootstrap it says what to
#                 install; under CI=true it fails instead
#   real-server   a real Waldur Mastermind (tests/waldur_server: PostgreSQL, gunicorn, seeded through
#                 its ORM): the live suite tests/live/seeded (every module and plugin, compared with
#                 Waldur's database and code; the emulator differential) and `make test-live` with
#                 each seeded user's token. Without PostgreSQL or build headers it says what it
#                 skipped and how to run it; under CI=true it fails instead
#   docs          the documentation site (antsibull-docs + Sphinx), no warnings but offline ones
#
# The other cores (2.21, 2.16) repeat what can depend on ansible-core: every entry point (each module,
# the inventory, the lookup, the filter, the event source, ansible-runner) and every test that reaches
# ansible-core's APIs (argument specs and AnsibleModule, plugin options, Display, unsafe text,
# templating, the constructed features, lookup errors, ansible-doc). They leave to the main run what
# gives the same result on any core: the unit tests of the pure-Python module_utils (the client, paging,
# retries, filters, sizes), the emulator's fidelity tests, and the integration tests marked
# core_independent (every filter against the truth, every page size, every fault kind, request counts
# and time bounds: the client's logic, through entry points that other tests run on every core).
# tests/core_versions.py decides: a unit test reaches ansible-core when it imports it, itself or
# through the collection's code. Their sanity skips the checks whose tools do not change with the core:
# changelog (antsibull-changelog, also the changelog stage) and shellcheck (the system's) on both;
# pep8 and yamllint on 2.16 only (its older pinned linters check a subset of what 2.19's check).
# pylint, validate-modules, import, compile, ansible-doc and runtime-metadata run on every core.
#
# Quicker local loops: SKIP="sanity-2.16 units-2.16 docs" make test (stage names as above), or
# ONLY="molecule" make test; KEEP_GOING=1 runs every stage even after a failure and lists the
# failed ones at the end; PYTEST_WORKERS (default 2, the cores of these machines) sets pytest's
# workers. CI sets none of them. Not a stage: `make stress` (scripts/stress.sh) runs the stages that
# start servers 10 times each with both cores kept busy, to show that none fails by chance.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/workarounds.sh
root=$PWD
export ANSIBLE_COLLECTIONS_PATH="$root/.cache/collections"
export ANSIBLE_PYTHON_INTERPRETER="$root/.venv/bin/python"
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_NOCOLOR=1 PY_COLORS=0

SKIP=${SKIP:-}
SKIP=" ${SKIP//,/ } "
ONLY=${ONLY:-}
ONLY=" ${ONLY//,/ } "
KEEP_GOING=${KEEP_GOING:-0}
PYTEST_WORKERS=${PYTEST_WORKERS:-2}
failed=() timings=() notes=() current="" stage_started=0
started_all=$(date +%s)

summary() {
  local status=$?
  if [ -n "$current" ]; then
    timings+=("$(printf '%-13s %5ss  FAILED' "$current" "$(($(date +%s) - stage_started))")")
  fi
  printf '\n=== stage times\n'
  printf '%s\n' "${timings[@]}"
  printf '%-13s %5ss\n' total "$(($(date +%s) - started_all))"
  if [ ${#notes[@]} != 0 ]; then
    printf '\n%s\n' "${notes[@]}"
  fi
  if [ "$status" = 0 ] && [ ${#failed[@]} = 0 ]; then
    printf '\n=== all tests passed\n'
  elif [ "$status" = 0 ]; then
    printf '\n=== FAILED stages: %s\n' "${failed[*]}"
    exit 1
  elif [ -z "$current" ]; then
    printf '\n=== stopped (exit status %s)\n' "$status"
  else
    printf '\n=== FAILED in stage %s (exit status %s); SKIP/ONLY can rerun parts, see scripts/test.sh\n' "$current" "$status"
  fi
}
trap summary EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# stage NAME DESCRIPTION COMMAND...: run COMMAND as stage NAME unless SKIP or ONLY leave it out.
stage() {
  local name=$1 description=$2 status=0
  shift 2
  if [[ "$SKIP" == *" $name "* ]] || { [ "$ONLY" != "  " ] && [[ "$ONLY" != *" $name "* ]]; }; then
    timings+=("$(printf '%-13s %6s  skipped' "$name" -)")
    return 0
  fi
  printf '\n=== %s: %s\n' "$name" "$description"
  current=$name
  stage_started=$(date +%s)
  if [ "$KEEP_GOING" = 1 ]; then
    "$@" || status=$?
  else
    "$@"
  fi
  if [ "$status" != 0 ]; then
    failed+=("$name")
    timings+=("$(printf '%-13s %5ss  FAILED' "$name" "$(($(date +%s) - stage_started))")")
  else
    timings+=("$(printf '%-13s %5ss' "$name" "$(($(date +%s) - stage_started))")")
  fi
  current=""
}

core_version() { "$1/bin/python" -c 'import ansible; print(ansible.__version__)' 2>/dev/null || echo "? ($1 missing: make setup)"; }

# Stage functions return at their first failure themselves (`|| return`): under KEEP_GOING they
# are called where `set -e` does not apply.
changelog() {
  antsibull-changelog lint || return
  antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml || return
  # A release made in a copy: the fragments must render, and every module must be announced.
  local dest status=0
  dest=$(copy_collection_tree) || return
  (cd "$dest" &&
    antsibull-changelog release --version "$(sed -n 's/^version: *//p' galaxy.yml)" --date 2000-01-01 &&
    python - <<'PYTHON'
import glob, os, sys, yaml
release = list(yaml.safe_load(open("changelogs/changelog.yaml"))["releases"].values())[-1]
announced = {entry["name"] for entry in release.get("modules", [])}
missing = sorted(set(os.path.basename(path)[:-3] for path in glob.glob("plugins/modules/*.py")) - announced)
if missing:
    sys.exit("changelog: a trial release does not announce the modules %s" % ", ".join(missing))
PYTHON
  ) || status=$?
  rm -rf "${dest%/ansible_collections/waldur/cloud}"
  [ "$status" = 0 ] && echo "changelog: fragments lint clean; a trial release announces every module"
  return "$status"
}

# run_pytest VENV SUITES...
run_pytest() {
  local venv=$1
  shift
  # worksteal: a worker that runs out of tests takes pending ones from the other; with the slow
  # integration tests given first and the quick unit tests last, no core idles at the end.
  "$venv/bin/python" -m pytest "$@" -q -p no:cacheprovider -n "$PYTEST_WORKERS" --dist worksteal
}

# run_examples VENV [--lint]: --settings 4 gives one shared OpenStack service settings, which the
# `shared: true` examples ask for.
run_examples() {
  local venv=$1
  shift
  ANSIBLE_PYTHON_INTERPRETER="$root/$venv/bin/python" "$venv/bin/python" scripts/with_emulator.py \
    --images 300 --tenants 8 --settings 4 --seed 3 -- \
    "$venv/bin/python" scripts/run_examples.py "$@" docs/guides/getting-started.md docs/guides/usage-reports.md
}

# ee: what ansible-builder reads of the collection, then the images built with podman (kept in the user's
# storage; a warm run only checks their labels) and the tests that run jobs, syncs and a rulebook in them.
ee() {
  bash scripts/ee-test.sh || return
  local missing
  if ! missing=$(python -m tests.containers check); then
    local message
    message="ee: the EE and DE images cannot be built here (tests/containers). This machine lacks:
${missing//missing: /    - }
  To run them: apt-get install $(python -c "from tests.containers.engine import DEBIAN_PACKAGES; print(DEBIAN_PACKAGES)") (as root)"
    if [ "${CI:-}" = true ]; then
      echo "$message
  CI=true never skips them" >&2
      return 1
    fi
    echo "$message"
    notes+=("ee SKIPPED the images: $message")
    return 0
  fi
  python -m tests.containers build || return
  run_pytest .venv tests/containers
}

# real_server: the live suite against a real Waldur, or what is missing for it and how to get it.
real_server() {
  local missing
  if ! missing=$(python -m tests.waldur_server check); then
    local packages cache skipped
    packages=$(python -c "from tests.waldur_server.server import DEBIAN_PACKAGES; print(DEBIAN_PACKAGES)")
    cache=$(python -c "from tests.waldur_server.server import CACHE_DIR; print(CACHE_DIR)")
    skipped="real-server SKIPPED (the live suite against a real Waldur, tests/live/seeded, and make test-live
  with its users' tokens). This machine lacks:
${missing//missing: /    - }
  To run it: apt-get install $packages (as root),
  then \`make real-server\` (first run ~5 minutes more: Waldur's venv, cached for every clone in $cache)."
    if [ "${CI:-}" = true ]; then
      echo "${skipped/SKIPPED/cannot run, and CI=true never skips it}" >&2
      return 1
    fi
    echo "$skipped"
    notes+=("$skipped")
    return 0
  fi
  python -m tests.waldur_server prepare || return
  # One server for all: the seeded suite, then the operator's suite as each seeded user.
  # shellcheck disable=SC2016  # the inner script expands its own arguments
  python -m tests.waldur_server run -- bash -c '
    set -e
    python -m pytest tests/live/seeded -q -p no:cacheprovider -n "$1"
    echo "real-server: the live suite took ${SECONDS}s"
    for user in staff owner member; do
      echo "real-server: make test-live as $user"
      SECONDS=0
      WALDUR_API_TOKEN=$(python -c "import sys; from tests.waldur_server.users import TOKENS; print(TOKENS[sys.argv[1]])" "$user") \
        bash scripts/test-live.sh
      echo "real-server: make test-live as $user took ${SECONDS}s"
    done' real-server "$PYTEST_WORKERS"
}

stage changelog "antsibull-changelog lint and a trial release" changelog
stage nox "antsibull-nox: docs-check, extra-checks, build-import-check" \
  nox --no-color -R -e docs-check extra-checks build-import-check
stage ansible-lint "ansible-lint, profile production" ansible-lint --nocolor --offline
stage pytest "unit, emulator fidelity and integration tests, ansible-core $(core_version .venv)" \
  run_pytest .venv tests/integration tests/fidelity tests/unit
# The other cores' selection (see the header); their unit tests run in units-2.21 and units-2.16.
stage pytest-2.21 "the integration tests that can depend on ansible-core, ansible-core $(core_version .venv-2.21)" \
  run_pytest .venv-2.21 tests/integration -m "not core_independent" --ignore tests/integration/test_rulebook.py
core_unit_list=$(python -m tests.core_versions)
mapfile -t core_unit_tests <<<"$core_unit_list"
for venv in .venv .venv-2.21 .venv-2.16; do
  suffix=$(core_version "$venv" | cut -d. -f1,2)
  case $venv in
    .venv) skipped=() units_scope=() ;;
    .venv-2.21) skipped=(changelog shellcheck) units_scope=("${core_unit_tests[@]}") ;;
    *) skipped=(changelog shellcheck pep8 yamllint) units_scope=("${core_unit_tests[@]}") ;;
  esac
  sanity_args=()
  for test in "${skipped[@]}"; do
    sanity_args+=(--skip-test "$test")
  done
  stage "sanity-$suffix" "ansible-test sanity, ansible-core $(core_version "$venv")${skipped:+ (skipped: ${skipped[*]})}" \
    bash scripts/ansible-test.sh "$venv" sanity --local "${sanity_args[@]}"
  stage "units-$suffix" "ansible-test units, ansible-core $(core_version "$venv")${units_scope:+, the unit tests that reach ansible-core}" \
    bash scripts/ansible-test.sh "$venv" units --local "${units_scope[@]}"
done
examples() {
  run_examples .venv --lint || return
  run_pytest .venv tests/guides
}
stage examples "plugin EXAMPLES, docs/examples/ and guide playbooks against the emulator, linted; every guide as written" examples
stage examples-2.21 "the same examples on ansible-core $(core_version .venv-2.21)" run_examples .venv-2.21
stage molecule "molecule test, each scenario (extensions/molecule)" bash scripts/molecule-test.sh
stage galaxy "ansible-galaxy collection build and install; use the installed copy" bash scripts/galaxy-test.sh
stage ee "ansible-builder introspect; the EE and DE images built, jobs, syncs and a rulebook run in them" ee
stage real-server "the live suite against a real Waldur (PostgreSQL, gunicorn), make test-live with each user" real_server
stage docs "documentation site (antsibull-docs + Sphinx)" bash scripts/docs.sh --strict
