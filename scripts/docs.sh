#!/usr/bin/env bash
# Build the documentation site into docs/build/html/ (open docs/build/html/index.html).
#
#   scripts/docs.sh            build; Sphinx warnings are shown but do not fail the build
#   scripts/docs.sh --strict   fail on any Sphinx warning other than the ones offline builds
#                              always have (intersphinx inventories of docs.ansible.com and
#                              docs.python.org cannot be fetched): what `make test` runs
#
# The site is laid out in docs/build/site/ (see docs/index.md, "Building this site"):
#   conf.py, rst/            from `antsibull-docs sphinx-init` (conf.py extended for MyST below)
#   rst/collections/         the plugin reference, from `antsibull-docs collection --use-current`
#   rst/index.rst            docs/index.md as the home page, with the table of contents
#   rst/guides/, rst/examples/, playbooks/   docs/guides/*.md, docs/examples/ and playbooks/,
#                            laid out as in the repository so that the guides' links resolve
#   rst/*.md                 the other pages of docs/ (listed under Reference)
# Works offline: nothing is downloaded (links into the Ansible docs are then plain text).
set -euo pipefail
cd "$(dirname "$0")/.."
strict=false
[ "${1:-}" = --strict ] && strict=true
export ANSIBLE_COLLECTIONS_PATH="$PWD/.cache/collections"
export PATH="$PWD/.venv/bin:$PATH"
build=docs/build
site=$build/site
rm -rf "$build"
mkdir -p "$site"
chmod 755 "$build" "$site"   # antsibull-docs refuses group- or world-writable directories

antsibull-docs sphinx-init --use-current --dest-dir "$site" \
  --project waldur.cloud --copyright "waldur.cloud contributors" \
  --title "waldur.cloud" --html-short-title "waldur.cloud" \
  waldur.cloud >/dev/null
antsibull-docs --config-file "$site/antsibull-docs.cfg" collection --use-current --fail-on-error \
  --dest-dir "$site/rst" waldur.cloud >/dev/null

mkdir -p "$site/rst/guides" "$site/rst/examples" "$site/playbooks"
cp docs/guides/*.md "$site/rst/guides/"
[ -d docs/examples ] && cp -r docs/examples/. "$site/rst/examples/"
cp playbooks/*.yml "$site/playbooks/"
# Other pages of docs/ (reference material such as bad-inputs.md) go under Reference.
pages=()
for page in docs/*.md; do
  [ "$page" = docs/index.md ] && continue
  cp "$page" "$site/rst/"
  pages+=("   $(basename "$page" .md)")
done
# The home page: docs/index.md (its links to guides/*.md resolve from rst/), then the navigation.
cp docs/index.md "$site/rst/home.md.inc"
guides=()
ordered="getting-started choosing-images usage-reports inventory awx"
for guide in $ordered; do
  if [ -f "docs/guides/$guide.md" ]; then guides+=("   guides/$guide"); else echo "docs: docs/guides/$guide.md is missing" >&2; fi
done
for extra in docs/guides/*.md; do   # guides beyond the five, in name order
  name=$(basename "$extra" .md)
  case " $ordered " in *" $name "*) ;; *) guides+=("   guides/$name") ;; esac
done
cat > "$site/rst/index.rst" <<EOF
.. The home page of the waldur.cloud documentation site, written by scripts/docs.sh.

.. include:: home.md.inc
   :parser: myst_parser.sphinx_

.. toctree::
   :hidden:
   :caption: Guides

$(printf '%s\n' "${guides[@]}")

.. toctree::
   :hidden:
   :caption: Reference

   collections/waldur/cloud/index
   collections/environment_variables
$(printf '%s\n' "${pages[@]}")
EOF
cat >> "$site/conf.py" <<'EOF'

# Added by scripts/docs.sh: the guides are Markdown, read by MyST.
extensions.append('myst_parser')
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
myst_heading_anchors = 3
myst_enable_extensions = ['colon_fence']
exclude_patterns = ['**/*.md.inc']
# Offline, the intersphinx inventories cannot be fetched: fail fast and go on without them.
intersphinx_timeout = 5
project = 'waldur.cloud'
html_title = 'waldur.cloud'
html_theme_options = {
    'topbar_links': {
        'Source': 'https://github.com/waldur/ansible-waldur-cloud',
        'Issues': 'https://github.com/waldur/ansible-waldur-cloud/issues',
        'Waldur': 'https://docs.waldur.com/',
    },
    'show_extranav': False,
    'show_rtd_ethical_ads': False,
}
EOF

status=0
sphinx-build -q -b html -c "$site" -w "$build/warnings.log" "$site/rst" "$build/html" 2>"$build/sphinx.log" || status=$?
if [ "$status" != 0 ]; then
  cat "$build/sphinx.log" >&2
  exit "$status"
fi
# What an offline build always warns about: the intersphinx inventories it cannot fetch, and in
# the generated reference the links into the Ansible documentation they would have resolved
# (labels such as common_return_values, ANSIBLE_* configuration variables).
offline='^intersphinx inventory |failed to reach any of the inventories|/rst/collections/.*(undefined label: |reference target not found: ANSIBLE_)'
others=$(grep -Ev "$offline" "$build/warnings.log" || true)
offline_count=$(grep -Ec "$offline" "$build/warnings.log" || true)
if [ -n "$others" ]; then
  echo "docs: Sphinx warnings (all in $build/warnings.log):" >&2
  echo "$others" >&2
  [ "$strict" = true ] && status=1
fi
if [ "$status" = 0 ]; then
  echo "docs: built $build/html/index.html ($(find "$build/html" -name '*.html' | wc -l) pages;" \
       "$offline_count warning lines about links into docs.ansible.com that need the network)"
fi
exit "$status"
