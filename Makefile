# The two commands: `make demo` (the main job) and `make test` (every test). Both set up first.
# Stages of `make test` can be skipped for quicker loops: SKIP="sanity-2.16 docs" make test
# (scripts/test.sh lists them); CI runs them all.
.PHONY: setup setup-main demo test pytest lint docs-lint changelog-lint examples molecule galaxy ee \
        sanity sanity-2.16 units units-2.16 docs bench clean

setup:
	@bash scripts/setup.sh

setup-main:
	@bash scripts/setup.sh main

demo: setup-main
	@bash scripts/demo.sh

test: setup
	@bash scripts/test.sh

# The documentation site, offline: docs/build/html/index.html.
docs: setup-main
	@bash scripts/docs.sh

# The benchmark against Waldur's own clients (about 10 minutes); writes bench/RESULTS.md.
bench: setup-main
	@.venv/bin/python bench/run.py

# Parts of `make test`, for quicker loops.
pytest: setup-main
	@ONLY=pytest bash scripts/test.sh

lint: setup-main
	@ONLY=ansible-lint bash scripts/test.sh

docs-lint: setup-main
	@ONLY=docs-lint bash scripts/test.sh

changelog-lint: setup-main
	@ONLY=changelog bash scripts/test.sh

examples: setup-main
	@ONLY=examples bash scripts/test.sh

molecule: setup-main
	@ONLY=molecule bash scripts/test.sh

galaxy: setup-main
	@ONLY=galaxy bash scripts/test.sh

ee: setup-main
	@ONLY=ee bash scripts/test.sh

sanity: setup-main
	@ONLY=sanity-2.19 bash scripts/test.sh

units: setup-main
	@ONLY=units-2.19 bash scripts/test.sh

sanity-2.16: setup
	@ONLY=sanity-2.16 bash scripts/test.sh

units-2.16: setup
	@ONLY=units-2.16 bash scripts/test.sh

clean:
	rm -rf .venv .venv-2.16 .cache tests/output .pytest_cache docs/build
