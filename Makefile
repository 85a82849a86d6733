# The two commands: `make demo` and `make test`. Both set up .venv (and system packages) first.
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test setup bench clean test-transformers-5.17

setup:
	@bash scripts/setup_env.sh

demo: setup
	$(PY) builder_scripts/demo.py

# Not -q: pytest then prints one line per test file (its name, a dot per test, the share done).
test: setup
	@echo "make test: the whole suite takes about 10 minutes on 2 CPU cores (9 min 34 s from a clean clone);"
	@echo "one line per test file below, as each file runs."
	$(PY) -m pytest

# The runner/adapter/compression tests on the GPU machine's transformers (5.17), on CPU, in .venv-tf517.
test-transformers-5.17:
	@bash scripts/test_transformers_517.sh

bench: setup
	$(PY) benchmarks/import_release.py

clean:
	rm -rf demo_out test-artifacts .pytest_cache
