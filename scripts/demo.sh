#!/usr/bin/env bash
# The main job: the demo playbook against a real Waldur when WALDUR_API_URL and WALDUR_API_TOKEN
# are set, otherwise against the bundled emulator. Then it says how to go on from this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
export ANSIBLE_COLLECTIONS_PATH="$PWD/.cache/collections"
export ANSIBLE_PYTHON_INTERPRETER="$PWD/.venv/bin/python"
# The demo plays on the implicit localhost, as it should: no warning that there is no inventory.
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
playbook=(.venv/bin/ansible-playbook playbooks/demo.yml "$@")
if [ -n "${WALDUR_API_URL:-}" ] && [ -n "${WALDUR_API_TOKEN:-}" ]; then
  echo "Running the demo against $WALDUR_API_URL"
  "${playbook[@]}"
else
  .venv/bin/python scripts/with_emulator.py --images 700 --tenants 12 --settings 3 --seed 1 -- "${playbook[@]}"
fi
cat <<'NEXT'

waldur.cloud is ready in this checkout: ansible-doc, ansible-playbook and ansible-inventory find
it when run from here; these and ansible-rulebook from anywhere after
    . .venv/bin/activate
Next: docs/guides/getting-started.md (no Waldur at hand? It shows how to use the emulator).
NEXT
