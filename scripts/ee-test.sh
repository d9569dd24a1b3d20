#!/usr/bin/env bash
# AWX / Automation Controller: what ansible-builder makes of the collection (no container engine
# is needed for these steps).
#  1. meta/requirements.txt, which meta/execution-environment.yml names, equals requirements.txt.
#  2. `ansible-builder create -f meta/execution-environment.yml` writes a build context: a
#     Containerfile and the Python and Galaxy requirements in _build/.
#  3. `ansible-builder introspect` on the collection installed from its tarball finds requests:
#     what an EE that lists waldur.cloud among its collections installs.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/.venv/bin
tmp=$(mktemp -d /tmp/waldur-ee.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "ee: $*" >&2; exit 1; }

cmp -s requirements.txt meta/requirements.txt \
  || fail "meta/requirements.txt differs from requirements.txt; copy it: cp requirements.txt meta/requirements.txt"

"$bin/ansible-builder" create -f meta/execution-environment.yml -c "$tmp/context" --output-filename Containerfile \
  > "$tmp/create.log" 2>&1 || fail "ansible-builder create failed: $(cat "$tmp/create.log")"
context=$tmp/context
for file in Containerfile _build/requirements.txt _build/requirements.yml _build/scripts/assemble _build/scripts/introspect.py; do
  [ -f "$context/$file" ] || fail "the build context lacks $file"
done
cmp -s requirements.txt "$context/_build/requirements.txt" || fail "_build/requirements.txt is not requirements.txt"
grep -q 'name: waldur.cloud' "$context/_build/requirements.yml" || fail "_build/requirements.yml does not install waldur.cloud"
grep -q "^FROM [\$]EE_BASE_IMAGE" "$context/Containerfile" || fail "the Containerfile has no FROM \$EE_BASE_IMAGE"
grep -q 'ansible-core' "$context/Containerfile" || fail "the Containerfile does not install ansible-core"
echo "ee: ansible-builder create wrote $(cd "$context" && find . -type f | wc -l) files: Containerfile, _build/requirements.txt ($(paste -sd' ' requirements.txt)), _build/requirements.yml"

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
