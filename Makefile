PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
TAAFS_SK_DATA ?= $(abspath ../shared/data)
export TAAFS_SK_DATA
export MPLBACKEND := Agg

.PHONY: venv install demo test lint docs bench clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt torch==2.13.0
	$(PIP) install -q -c constraints.txt -e ".[test,docs,atomistic,torchsim,mace,chgnet]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/taafs-sk study noise --dataset perovskites --quick --out results/demo

test: install
	$(VENV)/bin/ruff check taafs_sk tests benchmarks examples
	$(PY) -m pytest -n 2 --dist loadfile -q

lint: install
	$(VENV)/bin/ruff check taafs_sk tests benchmarks examples

docs: install
	$(MAKE) -C docs html SPHINXOPTS="-W --keep-going" PYTHON=$(abspath $(PY))

bench: install
	$(PY) benchmarks/bench_bases.py

clean:
	rm -rf $(VENV) docs/_build docs/auto_examples results
