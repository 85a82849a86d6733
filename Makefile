# The two commands: `make demo` and `make test`. Both set up .venv (and system packages) first.
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test setup bench clean

setup:
	@bash scripts/setup_env.sh

demo: setup
	$(PY) builder_scripts/demo.py

test: setup
	$(PY) -m pytest -q

bench: setup
	$(PY) benchmarks/import_release.py

clean:
	rm -rf demo_out test-artifacts .pytest_cache
