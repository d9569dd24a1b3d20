#!/usr/bin/env bash
# Every test of the collection (`make test`, and CI through .ci/run). The first failing stage stops
# the run; a table of stage times is printed at the end either way.
#
# pytest, the longest stage and a single process, runs in the background from the start (its
# output goes to a log that is printed when it ends) while the other stages run one after the
# other in the order below: the machine has two cores. PARALLEL=0 runs pytest in the foreground,
# in its place in the list, for output in order.
#
#   changelog     antsibull-changelog lint, and a trial release in a copy (new plugins detected)
#   docs-lint     antsibull-docs lint-collection-docs --plugin-docs
#   ansible-lint  production profile: plugins, playbooks/, docs/examples/, extensions/molecule/
#   pytest        unit, emulator fidelity and integration tests
#   sanity-2.19   ansible-test sanity on ansible-core 2.19 (.venv), empty ignore file
#   units-2.19    ansible-test units on ansible-core 2.19
#   sanity-2.16   ansible-test sanity on ansible-core 2.16 (.venv-2.16), the oldest supported
#   units-2.16    ansible-test units on ansible-core 2.16
#   examples      every plugin's EXAMPLES and the guides' playbooks, run against the emulator and linted
#   molecule      extensions/molecule: one scenario per module and one for the inventory plugin
#   galaxy        build the tarball, check its content, install it, use only the installed copy
#   ee            ansible-builder create / introspect (AWX execution environment)
#   docs          the documentation site (antsibull-docs + Sphinx), no warnings but offline ones
#
# For quicker local loops: SKIP="sanity-2.16 units-2.16 docs" make test   (stage names as above),
# or ONLY="molecule" make test; PYTEST_WORKERS=2 runs pytest with two workers. CI sets none of
# them and runs everything.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export ANSIBLE_COLLECTIONS_PATH="$root/.cache/collections"
export ANSIBLE_PYTHON_INTERPRETER="$root/.venv/bin/python"
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_NOCOLOR=1 PY_COLORS=0

SKIP=" ${SKIP:-} "
SKIP=${SKIP//,/ }
ONLY=${ONLY:-}
ONLY=${ONLY//,/ }
PARALLEL=${PARALLEL:-1}
timings=()
current=""
started_all=$(date +%s)
logs=$(mktemp -d /tmp/waldur-test.XXXXXX)
background_pid="" background_name="" background_started=0

summary() {
  local status=$?
  if [ -n "$background_pid" ]; then
    # The foreground failed first: stop the background stage (its own process group).
    kill -- "-$background_pid" 2>/dev/null || true
    wait "$background_pid" 2>/dev/null || true
    timings+=("$(printf '%-13s %5ss  stopped' "$background_name" "$(($(date +%s) - background_started))")")
  fi
  if [ -n "$current" ]; then
    timings+=("$(printf '%-13s %5ss  FAILED' "$current" "$(($(date +%s) - stage_started))")")
  fi
  rm -rf "$logs"
  printf '\n=== stage times\n'
  printf '%s\n' "${timings[@]}"
  printf '%-13s %5ss\n' total "$(($(date +%s) - started_all))"
  if [ "$status" = 0 ]; then
    printf '\n=== all tests passed\n'
  else
    printf '\n=== FAILED in stage %s (exit status %s); SKIP/ONLY can rerun parts, see scripts/test.sh\n' "$current" "$status"
  fi
}
trap summary EXIT

selected() {
  ! [[ "$SKIP" == *" $1 "* ]] && { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }
}

# stage NAME DESCRIPTION COMMAND...: run COMMAND as stage NAME unless skipped.
stage() {
  local name=$1 description=$2
  shift 2
  if ! selected "$name"; then
    timings+=("$(printf '%-13s %6s  skipped' "$name" -)")
    return 0
  fi
  check_background
  printf '\n=== %s: %s\n' "$name" "$description"
  current=$name
  stage_started=$(date +%s)
  "$@"
  timings+=("$(printf '%-13s %5ss' "$name" "$(($(date +%s) - stage_started))")")
  current=""
  check_background
}

# background_stage NAME DESCRIPTION COMMAND...: start COMMAND (a program, not a function) as stage
# NAME in its own process group, its output in a log; check_background notices its end.
background_stage() {
  local name=$1 description=$2
  shift 2
  if ! selected "$name"; then
    timings+=("$(printf '%-13s %6s  skipped' "$name" -)")
    return 0
  fi
  printf '\n=== %s: %s (started in the background; its output follows when it ends)\n' "$name" "$description"
  background_name=$name
  background_started=$(date +%s)
  setsid "$@" > "$logs/$name.log" 2>&1 < /dev/null &
  background_pid=$!
}

# check_background [wait]: if the background stage has ended (or, with `wait`, once it ends),
# print its output and stop the run if it failed.
check_background() {
  [ -n "$background_pid" ] || return 0
  if [ "${1:-}" != wait ] && kill -0 "$background_pid" 2>/dev/null; then
    return 0
  fi
  local status=0 pid=$background_pid
  [ "${1:-}" = wait ] && printf '\n=== waiting for %s\n' "$background_name"
  wait "$pid" || status=$?
  background_pid=""
  printf '\n=== %s (ran in the background) ended with status %s after %ss:\n' \
    "$background_name" "$status" "$(($(date +%s) - background_started))"
  cat "$logs/$background_name.log"
  if [ "$status" != 0 ]; then
    current=$background_name
    stage_started=$background_started
    exit "$status"
  fi
  timings+=("$(printf '%-13s %5ss  (in the background)' "$background_name" "$(($(date +%s) - background_started))")")
}

core_version() { "$1/bin/python" -c 'import ansible; print(ansible.__version__)' 2>/dev/null || echo "? ($1 missing: make setup)"; }

changelog() {
  antsibull-changelog lint
  antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
  # A release made in a copy: the fragments must render, and every plugin must be announced.
  local tmp
  tmp=$(mktemp -d /tmp/waldur-changelog.XXXXXX)
  mkdir -p "$tmp/ansible_collections/waldur/cloud"
  git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$tmp/ansible_collections/waldur/cloud"
  (cd "$tmp/ansible_collections/waldur/cloud" &&
    antsibull-changelog release --version "$(sed -n 's/^version: *//p' galaxy.yml)" --date 2000-01-01 &&
    python - <<'PYTHON'
import glob, os, sys, yaml
release = list(yaml.safe_load(open("changelogs/changelog.yaml"))["releases"].values())[-1]
announced = {entry["name"] for entry in release.get("modules", [])}
missing = sorted(set(os.path.basename(path)[:-3] for path in glob.glob("plugins/modules/*.py")) - announced)
if missing:
    sys.exit("changelog: a trial release does not announce the modules %s" % ", ".join(missing))
PYTHON
  ) || { rm -rf "$tmp"; return 1; }
  rm -rf "$tmp"
  echo "changelog: fragments lint clean; a trial release announces every module"
}

docs_lint() {
  antsibull-docs lint-collection-docs --plugin-docs .
}

lint() {
  ansible-lint --nocolor --offline
}

pytest_command=(python -m pytest tests/unit tests/fidelity tests/integration -q -p no:cacheprovider
                ${PYTEST_WORKERS:+-n "$PYTEST_WORKERS"})

examples() {
  # --settings 4: one shared OpenStack service settings, which the `shared: true` examples ask for.
  python scripts/with_emulator.py --images 300 --tenants 8 --settings 4 --seed 3 -- \
    python scripts/run_examples.py --lint docs/guides/getting-started.md docs/guides/usage-reports.md
}

run_molecule() {
  # Each scenario starts and stops its own emulator (extensions/molecule/shared/).
  molecule test --all
}

pytest_description="unit, emulator fidelity and integration tests"
[ "$PARALLEL" = 0 ] || background_stage pytest "$pytest_description" "${pytest_command[@]}"
stage changelog "antsibull-changelog lint and a trial release" changelog
stage docs-lint "antsibull-docs lint-collection-docs --plugin-docs" docs_lint
stage ansible-lint "ansible-lint, profile production" lint
[ "$PARALLEL" != 0 ] || stage pytest "$pytest_description" "${pytest_command[@]}"
stage sanity-2.19 "ansible-test sanity, ansible-core $(core_version .venv)" bash scripts/ansible-test.sh .venv sanity --local
stage units-2.19 "ansible-test units, ansible-core $(core_version .venv)" bash scripts/ansible-test.sh .venv units --local
stage sanity-2.16 "ansible-test sanity, ansible-core $(core_version .venv-2.16)" bash scripts/ansible-test.sh .venv-2.16 sanity --local
stage units-2.16 "ansible-test units, ansible-core $(core_version .venv-2.16)" bash scripts/ansible-test.sh .venv-2.16 units --local
stage examples "plugin EXAMPLES and guide playbooks against the emulator" examples
stage molecule "molecule test --all (extensions/molecule)" run_molecule
stage galaxy "ansible-galaxy collection build and install; use the installed copy" bash scripts/galaxy-test.sh
stage ee "ansible-builder create and introspect (AWX execution environment)" bash scripts/ee-test.sh
stage docs "documentation site (antsibull-docs + Sphinx)" bash scripts/docs.sh --strict
check_background wait
