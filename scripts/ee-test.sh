#!/usr/bin/env bash
# AWX / Automation Controller: what ansible-builder reads of the collection (no container engine
# is needed for these steps; the ee stage then builds the images, tests/containers).
#  1. meta/requirements.txt, which meta/execution-environment.yml names, equals requirements.txt.
#  2. `ansible-builder introspect` on the collection installed from its tarball finds requests:
#     what an EE that lists waldur.cloud among its collections installs.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/.venv/bin
tmp=$(mktemp -d /tmp/waldur-ee.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "ee: $*" >&2; exit 1; }

cmp -s requirements.txt meta/requirements.txt \
  || fail "meta/requirements.txt differs from requirements.txt; copy it: cp requirements.txt meta/requirements.txt"

"$bin/ansible-galaxy" collection build --output-path "$tmp/dist" >/dev/null
ANSIBLE_COLLECTIONS_PATH=$tmp/collections "$bin/ansible-galaxy" collection install --offline --force \
  "$tmp"/dist/waldur-cloud-*.tar.gz -p "$tmp/collections" >/dev/null 2>&1
[ -f "$tmp/collections/ansible_collections/waldur/cloud/MANIFEST.json" ] || fail "the tarball did not install"
"$bin/ansible-builder" introspect --sanitize "$tmp/collections" > "$tmp/introspect.txt" 2>&1 \
  || fail "ansible-builder introspect failed: $(cat "$tmp/introspect.txt")"
grep -Eq "^- '?requests[^#]*# from collection waldur\.cloud" "$tmp/introspect.txt" \
  || fail "ansible-builder introspect did not find requests in the installed collection:
$(cat "$tmp/introspect.txt")"
echo "ee: ansible-builder introspect of the installed collection finds: $(grep -E '# from collection waldur\.cloud' "$tmp/introspect.txt" | tr -d "'" | tr -s ' ' | sed 's/^- //')"
