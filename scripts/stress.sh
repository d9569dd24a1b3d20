#!/usr/bin/env bash
# The stress check, run on demand (not in CI): each stage that starts servers, RUNS times (default
# 10), while two busy loops keep both cores busy. Prints each run's outcome and then passes/runs per
# stage; exits 1 if any run failed. Each run's output is kept in .cache/stress/STAGE-N.log.
#
#   scripts/stress.sh [STAGE] [RUNS]     or: make stress (all stages, 10 runs)
#
#   molecule      the molecule stage (scripts/molecule-test.sh: an emulator per scenario, in the background)
#   integration   the integration fixtures: tests that start emulators in-process and as a command
#                 (ansible-playbook runs, the event source's polls, the CLI's start and stop), on 2 workers
#   real-server   a real Waldur's start: `python -m tests.waldur_server prepare` (cached after the first
#                 build, ~10 minutes), then `run` with a request to each data set's server
#   all           the three, one after the other (default)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
stage=${1:-all}
runs=${2:-10}
python=$root/.venv/bin/python
export PATH="$root/.venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$root/.cache/collections" ANSIBLE_NOCOLOR=1 PY_COLORS=0
INTEGRATION_TESTS=(tests/integration/test_openstack_image_info.py tests/integration/test_connection_messages.py
                   tests/integration/test_event_source.py tests/fidelity/test_cli.py)

case $stage in
  molecule | integration | real-server) stages=("$stage") ;;
  all) stages=(molecule integration real-server) ;;
  *)
    echo "usage: $0 [molecule|integration|real-server|all] [RUNS]" >&2
    exit 2
    ;;
esac
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
  echo "$0: RUNS must be a number above 0, not '$runs'" >&2
  exit 2
fi

busy=()
stop_busy() {
  if [ ${#busy[@]} != 0 ]; then
    kill "${busy[@]}" 2>/dev/null || true
    wait "${busy[@]}" 2>/dev/null || true
  fi
}
trap stop_busy EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
for _ in 1 2; do
  bash -c 'while :; do :; done' &
  busy+=($!)
done

# A request to each data set's server, as the staff user: the start is complete when both answer.
real_server_probe='import json, os, urllib.request
info = json.load(open(os.environ["WALDUR_SERVER_INFO"]))
for name, dataset in sorted(info["datasets"].items()):
    request = urllib.request.Request(dataset["url"].rstrip("/") + "/api/openstack-images/?page_size=1",
                                     headers={"Authorization": "Token " + os.environ["WALDUR_API_TOKEN"]})
    with urllib.request.urlopen(request, timeout=60) as response:
        print("%s: %s answered %s" % (name, dataset["url"], response.status))'

run_once() {
  case $1 in
    molecule) bash scripts/molecule-test.sh ;;
    integration) "$python" -m pytest -q -p no:cacheprovider -n 2 "${INTEGRATION_TESTS[@]}" ;;
    real-server)
      "$python" -m tests.waldur_server prepare &&
        "$python" -m tests.waldur_server run -- "$python" -c "$real_server_probe"
      ;;
  esac
}

mkdir -p .cache/stress
summary=()
failures=0
for name in "${stages[@]}"; do
  passed=0
  for run in $(seq "$runs"); do
    log=.cache/stress/$name-$run.log
    started=$(date +%s)
    if run_once "$name" > "$log" 2>&1; then
      passed=$((passed + 1))
      outcome=passed
    else
      failures=$((failures + 1))
      outcome="FAILED (its output: $log)"
    fi
    printf '%s run %d/%d: %s in %ss\n' "$name" "$run" "$runs" "$outcome" "$(($(date +%s) - started))"
  done
  summary+=("$(printf '%-12s %d/%d passed' "$name" "$passed" "$runs")")
done
printf '\n=== stress: two busy loops on both cores\n'
printf '%s\n' "${summary[@]}"
[ "$failures" = 0 ]
