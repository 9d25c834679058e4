# Two entry points: `make demo` (the main job) and `make test`. Each creates .venv and
# installs what it needs on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TORCH := torch==2.13.0

.PHONY: demo test lint bench system-deps clean

# `make demo` needs only the demo extra; `make test` adds the test tools, micrograd (the
# benchmarks' baseline) and PyTorch (the parity oracle).
DEMO_STAMP := $(VENV)/.demo-installed

$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[demo]'
	touch $(DEMO_STAMP)

$(STAMP): $(DEMO_STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	@# PyTorch is the optional oracle for parity tests; a failure here only skips them.
	$(PY) -m pip install --quiet '$(TORCH)' || echo "note: $(TORCH) not installed; PyTorch parity tests will be skipped"
	touch $(STAMP)

system-deps:
	@bash scripts/system-deps.sh

demo: system-deps $(DEMO_STAMP)
	$(PY) -m demos.main

test: system-deps $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) -m benchmarks.run

# `make lab`: JupyterLab on the course, on 127.0.0.1 only (a free port; open the printed URL, which
# carries the login token). News, update checks and the PyPI extension manager are off: nothing is
# fetched from the internet.
NOTEBOOK_STAMP := $(VENV)/.notebook-installed
.PHONY: lab

$(NOTEBOOK_STAMP): $(DEMO_STAMP)
	$(PY) -m pip install --quiet -e '.[notebook]'
	touch $(NOTEBOOK_STAMP)

lab: system-deps $(NOTEBOOK_STAMP)
	$(PY) -m jupyterlab --no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port=0 \
		--ServerApp.root_dir=notebooks --allow-root --LabApp.news_url=None \
		--LabApp.extension_manager=readonly \
		--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate

clean:
	rm -rf $(VENV) out .pytest_cache
