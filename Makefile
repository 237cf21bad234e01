# The README's commands. Everything runs inside .venv, created by scripts/setup.sh.
VENV ?= .venv
PY := $(VENV)/bin/python
NNSCRATCH := $(VENV)/bin/nnscratch

.PHONY: demo test bench docs docs-serve setup lint clean

## demo: set up a fresh machine and run the main job
demo:
	bash scripts/setup.sh
	$(NNSCRATCH) datasets
	$(NNSCRATCH) train lenet --epochs 3 --plots out/lenet

## test: install the test extras and run the whole suite
test:
	bash scripts/setup.sh test
	$(PY) -m pytest

setup:
	bash scripts/setup.sh test

lint:
	$(PY) -m ruff check nnscratch tests benchmarks scripts examples

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
