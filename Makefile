# The two commands: `make demo` (the main job) and `make test` (every test). Both set up first.
.PHONY: setup demo test pytest sanity units clean

setup:
	@bash scripts/setup.sh

demo: setup
	@bash scripts/demo.sh

test: setup
	@bash scripts/test.sh

# Parts of `make test`, for quicker loops.
pytest: setup
	@.venv/bin/python -m pytest tests/unit tests/fidelity tests/integration -q

sanity: setup
	@bash scripts/ansible-test.sh .venv sanity --local

units: setup
	@bash scripts/ansible-test.sh .venv units --local

clean:
	rm -rf .venv .cache tests/output .pytest_cache
