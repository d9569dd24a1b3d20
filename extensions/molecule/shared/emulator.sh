#!/usr/bin/env bash
# Start or stop the Waldur emulator of one molecule scenario. Its files live in STATE_DIR:
# emulator.pid, emulator.json (the line it prints: url and tokens), emulator.log, dataset.json.
#
#   emulator.sh start STATE_DIR PYTHON EMULATOR_OPTIONS...   (run from the collection root)
#   emulator.sh stop STATE_DIR
#
# `start` keeps an emulator that is still serving for STATE_DIR and otherwise starts a new one, so
# a pid left by a broken run is never trusted. `stop` sends SIGTERM, then SIGKILL after a grace
# period, and removes STATE_DIR's files but emulator.log: no orphan, no stale pid, and the log stays
# for scripts/molecule-test.sh to print when the scenario failed (the next `start` replaces it).
# Prints "started", "running" or "stopped" when it changed something.
#
# STATE_DIR must belong to one checkout (config.yml's emulator_dir): `serving` recognises the
# emulator by STATE_DIR in its command line, so a STATE_DIR shared by two checkouts would let one
# stop the other's emulator.
set -euo pipefail
action=$1 state_dir=$2
shift 2
pid_file=$state_dir/emulator.pid

# Our emulator, not a process that reused the pid: its command line names this STATE_DIR.
serving() {
  local pid
  pid=$(cat "$pid_file" 2>/dev/null) || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-m tests.emulator --port 0 --dump-dataset $state_dir/dataset.json"
}

# wait_until SECONDS COMMAND...: true once COMMAND succeeds, false after SECONDS.
wait_until() {
  local deadline=$(($(date +%s) + $1))
  shift
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

stopped() { ! serving; }
announced() { grep -qs '"tokens"' "$state_dir/emulator.json"; }

case $action in
  start)
    python=$1
    shift
    if serving && announced; then
      echo running
      exit 0
    fi
    "$0" stop "$state_dir" >/dev/null
    mkdir -p "$state_dir"
    nohup "$python" -m tests.emulator --port 0 --dump-dataset "$state_dir/dataset.json" "$@" \
      > "$state_dir/emulator.json" 2> "$state_dir/emulator.log" < /dev/null &
    echo $! > "$pid_file"
    # It prints its line once it listens. Generous: the machine may be busy with other test runs.
    if ! wait_until 120 announced; then
      echo "the emulator did not start; its log:" >&2
      cat "$state_dir/emulator.log" >&2
      "$0" stop "$state_dir" >/dev/null
      exit 1
    fi
    echo started
    ;;
  stop)
    if serving; then
      pid=$(cat "$pid_file")
      kill -TERM "$pid" 2>/dev/null || true
      if ! wait_until 10 stopped; then
        echo "the emulator (pid $pid) ignored SIGTERM for 10 s: killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
        wait_until 5 stopped
      fi
      echo stopped
    fi
    if [ -d "$state_dir" ]; then
      find "$state_dir" -mindepth 1 ! -name emulator.log -delete
    fi
    ;;
  *)
    echo "usage: $0 start STATE_DIR PYTHON OPTIONS... | stop STATE_DIR" >&2
    exit 2
    ;;
esac
