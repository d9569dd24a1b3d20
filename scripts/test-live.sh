#!/usr/bin/env bash
# `make test-live`: does this collection work against my Waldur? Read-only checks of every module
# and plugin (tests/live/any_waldur) against the Waldur of WALDUR_API_URL, with WALDUR_API_TOKEN.
# Only GET and HEAD requests; nothing depends on the data the server holds. Each check is listed
# with its result; what this token cannot show is listed as skipped, with the reason.
# Guide: docs/guides/live-tests.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${WALDUR_API_URL:-}" ] || [ -z "${WALDUR_API_TOKEN:-}" ]; then
  echo "make test-live: set WALDUR_API_URL (e.g. https://waldur.example.com/api/) and WALDUR_API_TOKEN" >&2
  exit 2
fi
root=$PWD
export ANSIBLE_COLLECTIONS_PATH="$root/.cache/collections"
export ANSIBLE_PYTHON_INTERPRETER="$root/.venv/bin/python"
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_NOCOLOR=1 PY_COLORS=0
echo "test-live: checking the waldur.cloud collection against $WALDUR_API_URL"
"$root/.venv/bin/python" -m pytest tests/live/any_waldur -p no:cacheprovider -v -rs -n "${PYTEST_WORKERS:-2}"
