#!/usr/bin/env bash
# The collection as users get it: `ansible-galaxy collection build` from this working tree (with
# its .venv, caches and build outputs, which build_ignore in galaxy.yml must keep out), a check of
# what the tarball holds, galaxy-importer (what Galaxy runs on upload) without a warning,
# `ansible-galaxy collection install` into a fresh collections path, and
# then ansible-doc and a playbook against the emulator with ANSIBLE_COLLECTIONS_PATH pointing
# only at that path, so nothing can come from the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/.venv/bin
tmp=$(mktemp -d /tmp/waldur-galaxy.XXXXXX)
made=()
trap 'rm -rf "$tmp" "${made[@]}"' EXIT
fail() { echo "galaxy: $*" >&2; exit 1; }

version=$(sed -n 's/^version: *//p' galaxy.yml)
# The build outputs a user's checkout holds after the guides: a tarball built into dist/ (getting started) and
# ansible-builder's context/ (AWX). Made here when absent, and removed at the end.
if [ ! -e dist ]; then
  made+=("$PWD/dist")
  "$bin/ansible-galaxy" collection build --output-path dist >/dev/null
fi
if [ ! -e context ]; then
  made+=("$PWD/context")
  mkdir -p context/_build && echo "FROM scratch" > context/Containerfile
fi
"$bin/ansible-galaxy" collection build --output-path "$tmp/dist" >/dev/null
tarball=$tmp/dist/waldur-cloud-$version.tar.gz
[ -f "$tarball" ] || fail "no $tarball"
tar -tzf "$tarball" | sed 's|^\./||' | sort > "$tmp/files"
echo "galaxy: built $(basename "$tarball"): $(wc -l < "$tmp/files") entries, $(du -k "$tarball" | cut -f1) KiB"

# Nothing local or generated.
junk='(^|/)(\.venv[^/]*|\.nox|\.cache|\.ansible|\.pytest_cache|\.hypothesis|__pycache__|\.git|\.ci)(/|$)|\.pyc$|\.tar\.gz$|^tests/output/|^bench/|^docs/build/|^docs/rst/|^(dist|context)(/|$)|^scripts/|^Makefile$|^ansible\.cfg$|^noxfile\.py$|^antsibull-nox\.toml$|^requirements-(dev|test-|importer).*\.txt$|^changelogs/\.plugin-cache\.yaml$'
if grep -E "$junk" "$tmp/files" > "$tmp/junk"; then
  fail "the tarball holds files that build_ignore in galaxy.yml should keep out:
$(head -20 "$tmp/junk")"
fi
# Everything a user needs.
for wanted in MANIFEST.json FILES.json README.md requirements.txt meta/runtime.yml meta/execution-environment.yml \
    meta/requirements.txt changelogs/changelog.yaml plugins/modules/openstack_image_info.py \
    plugins/modules/openstack_image_stats.py plugins/doc_fragments/connection.py plugins/module_utils/client.py \
    docs/index.md playbooks/demo.yml; do
  grep -qx "$wanted" "$tmp/files" || fail "the tarball lacks $wanted"
done

# What Galaxy runs on upload, with its defaults (ansible-doc, ansible-lint; no ansible-test): no warning.
importer=$PWD/.venv-importer/bin
(cd "$tmp" && PATH=$importer:$PATH "$importer/python" -m galaxy_importer.main "$tarball") > "$tmp/importer.log" 2>&1 \
  || fail "galaxy-importer failed: $(cat "$tmp/importer.log")"
grep -q "Importer processing completed successfully" "$tmp/importer.log" || fail "galaxy-importer: $(cat "$tmp/importer.log")"
if grep -E "WARNING|ERROR" "$tmp/importer.log" > "$tmp/importer.warnings"; then
  fail "galaxy-importer warns:
$(cat "$tmp/importer.warnings")"
fi
echo "galaxy: galaxy-importer $("$importer/python" -c 'import galaxy_importer; print(galaxy_importer.__version__)') imports it without a warning"

# From here on, only the fresh path: the checkout (linked under .cache/collections) is invisible.
export ANSIBLE_COLLECTIONS_PATH=$tmp/collections
"$bin/ansible-galaxy" collection install --offline --force "$tarball" -p "$tmp/collections" >"$tmp/install.log" 2>&1 \
  || fail "install failed: $(cat "$tmp/install.log")"
installed=$tmp/collections/ansible_collections/waldur/cloud
[ -f "$installed/MANIFEST.json" ] || fail "nothing installed at $installed: $(cat "$tmp/install.log")"
export ANSIBLE_PYTHON_INTERPRETER=$bin/python
listed=$("$bin/ansible-galaxy" collection list waldur.cloud --format json)
case "$listed" in
  *"$tmp/collections/ansible_collections"*) ;;
  *) fail "ansible-galaxy collection list does not show the installed copy: $listed" ;;
esac
# Every plugin's documentation loads from the installed copy (one ansible-doc run for all of them).
"$bin/ansible-doc" --metadata-dump waldur.cloud > "$tmp/docs.json" 2>"$tmp/docs.err" \
  || fail "ansible-doc --metadata-dump waldur.cloud failed: $(cat "$tmp/docs.err")"
plugins=$("$bin/python" -c 'import json, sys
dump = json.load(open(sys.argv[1]))["all"]
print(" ".join(sorted("%s:%s" % (kind, name) for kind, names in dump.items() if kind != "keyword" for name in names)))' "$tmp/docs.json")
for wanted in module:waldur.cloud.openstack_image_info module:waldur.cloud.openstack_image_stats; do
  case " $plugins " in *" $wanted "*) ;; *) fail "ansible-doc does not find $wanted in the installed copy" ;; esac
done
"$bin/ansible-doc" waldur.cloud.openstack_image_info | grep -q "$installed" \
  || fail "ansible-doc waldur.cloud.openstack_image_info did not read the installed copy"
echo "galaxy: installed into a fresh collections path; ansible-doc reads from there: ${plugins//waldur.cloud./}"

# The demo playbook, run as the collection's own playbook (waldur.cloud.demo) from the install.
"$bin/python" scripts/with_emulator.py --images 200 --tenants 6 --settings 3 --seed 5 -- \
  "$bin/ansible-playbook" waldur.cloud.demo > "$tmp/play.log" 2>&1 \
  || { cat "$tmp/play.log" >&2; fail "ansible-playbook waldur.cloud.demo failed with the installed collection"; }
grep -q "failed=0" "$tmp/play.log" || { cat "$tmp/play.log" >&2; fail "the demo playbook did not finish cleanly"; }
echo "galaxy: ansible-playbook waldur.cloud.demo passed against the emulator with only the installed collection"
