# The two commands of the README. Each creates .venv when it is missing.
#   make demo   - the main job on the bundled data
#   make test   - the test suite
VENV ?= .venv
# Extra package index for the CPU build of torch, e.g. TORCH_INDEX=https://download.pytorch.org/whl/cpu
# where PyPI would give a CUDA build; empty by default, because machines without that index
# (offline mirrors, CI here) must still install. A GPU user installs their CUDA build first.
TORCH_INDEX ?=
PY := $(VENV)/bin/python
STAMP := $(VENV)/.omixgan-installed

.PHONY: demo test docs venv lint dist
demo: $(STAMP)
	$(VENV)/bin/omixgan demo $(ARGS)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

docs: $(STAMP)
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

venv: $(STAMP)

lint: $(STAMP)
	$(PY) -m ruff --version >/dev/null 2>&1 || $(PY) -m pip install --quiet ruff
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

# wheel and sdist in dist/, checked as PyPI would (twine) and for size (data included)
dist: $(STAMP)
	$(PY) -m twine --version >/dev/null 2>&1 || $(PY) -m pip install --quiet build twine
	rm -rf dist
	$(PY) -m build --outdir dist
	$(PY) -m twine check --strict dist/*
	@ls -l dist

# The CPU build of torch is installed first when no torch is present: a bare `torch` requirement
# would pull a CUDA build of several GB. A GPU user installs their CUDA torch into .venv first
# (see README) and this step keeps it.
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "torch==2.13.0" $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))
	$(PY) -m pip install --quiet -e ".[test,docs]"
	touch $(STAMP)
