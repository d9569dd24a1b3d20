# The two commands: `make demo` (the main job) and `make test` (every test). Both set up first.
# One stage of `make test` alone: `make pytest`, `make molecule`, ... (the stage names of
# scripts/test.sh); several: ONLY="pytest molecule" make test; fewer: SKIP="sanity-2.16 docs" make test.
STAGES := changelog nox ansible-lint pytest pytest-2.21 sanity-2.19 units-2.19 sanity-2.21 units-2.21 \
          sanity-2.16 units-2.16 examples examples-2.21 molecule galaxy ee real-server
.PHONY: setup setup-main demo test test-live docs bench stress clean $(STAGES)

setup:
	@bash scripts/setup.sh

setup-main:
	@bash scripts/setup.sh main

demo: setup-main
	@bash scripts/demo.sh

test: setup
	@bash scripts/test.sh

$(STAGES): setup
	@ONLY=$@ bash scripts/test.sh

# On demand, not in CI: the stages that start servers, 10 runs each, with both cores kept busy.
# One stage, other run count: scripts/stress.sh molecule 3.
stress: setup
	@bash scripts/stress.sh

# Does this collection work against my Waldur? Read-only checks against WALDUR_API_URL with
# WALDUR_API_TOKEN (docs/guides/live-tests.md).
test-live: setup-main
	@bash scripts/test-live.sh

# The documentation site, offline: docs/build/html/index.html.
docs: setup-main
	@bash scripts/docs.sh

# The benchmark against Waldur's own clients (about 10 minutes); writes bench/RESULTS.md.
bench: setup-main
	@.venv/bin/python bench/run.py

clean:
	rm -rf .venv .venv-2.16 .venv-2.21 .cache tests/output .pytest_cache docs/build
