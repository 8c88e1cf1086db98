# rldojo: everyday commands. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv must never try to download interpreters: it uses the Pythons on this machine.
export UV_PYTHON_DOWNLOADS := never
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
RUN := $(UV) run --frozen

ALGO ?= dqn
ENV ?=
DEVICE ?= auto
RUN_ID ?= $(subst /,-,$(ALGO))-$(shell date +%Y%m%d-%H%M%S)
ARGS ?=
SET ?=
# pytest-xdist workers for `make test` / `make test-fast` (auto: one per core; 0: serial, in this process)
TEST_WORKERS ?= auto
PYTEST := $(RUN) pytest -n $(TEST_WORKERS) --dist loadgroup
TOXENVS ?= py310,py311,py312,py313,lint,type
TOX_ARGS ?=
IMAGE ?= rldojo
BASE_IMAGE ?=
EXTRA_CA ?=
GPU ?=
BUILDS_DIR := unity_builds
SYNC_STAMP := .venv/.rldojo-synced
BUILDS_STAMP := $(BUILDS_DIR)/.rldojo-built

.PHONY: help setup train test test-fast lint typecheck tox builds docker-build docker-train bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

setup: $(SYNC_STAMP) ## Install uv if absent, then the locked workspace into .venv

$(SYNC_STAMP): uv.lock pyproject.toml $(wildcard packages/*/pyproject.toml)
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --compile-bytecode  # so no run compiles torch's modules again (half of `import torch`)
	@touch $@

builds: $(BUILDS_STAMP) ## Generate the simulated Unity builds into unity_builds/

$(BUILDS_STAMP): $(SYNC_STAMP) $(shell find packages/rldojo-sim/src -name '*.py' 2>/dev/null)
	$(RUN) rldojo-sim build --all --out-root $(BUILDS_DIR)
	@touch $@

train: setup builds ## Train: make train ALGO=dqn [ENV=...] [RUN_ID=...] [DEVICE=auto|cpu|cuda] [SET="a.b=1 c.d=2"] [ARGS=...]
	@test -f configs/$(ALGO).yaml || { echo "no config configs/$(ALGO).yaml: trainer '$(ALGO)' is not built yet (available: $$(cd configs && ls *.yaml */*.yaml 2>/dev/null | sed 's/\.yaml$$//' | paste -sd' '))"; exit 1; }
	$(RUN) rldojo learn configs/$(ALGO).yaml --run-id $(RUN_ID) --device $(DEVICE) $(if $(ENV),--env $(ENV)) $(foreach setting,$(SET),--set $(setting)) $(ARGS)

test: setup ## Run the whole test suite, in parallel: make test [TEST_WORKERS=auto|N|0]
	$(PYTEST) -m "not timing"
	$(RUN) pytest -m timing

test-fast: setup ## Everyday tier (a few minutes): every test but the `slow` and `docker` ones, in parallel
	$(PYTEST) -m "not slow and not docker and not timing"
	$(RUN) pytest -m "timing and not slow and not docker"

lint: setup typecheck ## typecheck (mypy), then ruff check + ruff format --check + hadolint on the Dockerfile
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) hadolint containers/Dockerfile

typecheck: setup ## mypy on all packages
	$(RUN) mypy packages/*/src

tox: setup ## Test on Python 3.10-3.13: make tox [TOXENVS=py310,py313] [TOX_ARGS="-m smoke"]
	$(RUN) tox run -e $(TOXENVS) -- $(TOX_ARGS)

bench: setup builds ## Run the benchmarks under scripts/
	@for script in scripts/bench_*.py; do echo "== $$script"; $(RUN) python $$script || exit 1; done

docker-build: ## Build the image: make docker-build [IMAGE=rldojo] [BASE_IMAGE=...] [EXTRA_CA=proxy-ca.pem]
	$(if $(EXTRA_CA),cp $(EXTRA_CA) containers/extra-ca-certificates/extra-ca.crt)
	docker build --network host --force-rm -f containers/Dockerfile -t $(IMAGE) $(if $(BASE_IMAGE),--build-arg BASE_IMAGE=$(BASE_IMAGE)) \
		--build-arg RLDOJO_GIT_COMMIT=$$(git rev-parse HEAD 2>/dev/null) \
		--build-arg RLDOJO_GIT_DIRTY=$$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo true || echo false) . \
		|| { echo "docker build failed; if a step could not verify a TLS certificate (a proxy that intercepts TLS), give the build its CA: make docker-build EXTRA_CA=proxy-ca.pem" >&2; exit 1; }

docker-train: ## Train in the image, ./results mounted: make docker-train ALGO=dqn [GPU=1] [ENV=...] [SET=...] [ARGS=...]
	@mkdir -p results
	docker run --rm --network host --user $$(id -u):$$(id -g) -v "$(CURDIR)/results:/app/results" \
		$(if $(GPU),--gpus all) $(IMAGE) train ALGO=$(ALGO) RUN_ID=$(RUN_ID) \
		DEVICE=$(if $(GPU),cuda,$(DEVICE)) $(if $(ENV),ENV=$(ENV)) SET="$(SET)" ARGS="$(ARGS)"

clean: ## Remove virtualenvs, generated builds, caches (keeps results/)
	rm -rf .venv .tox .mypy_cache .ruff_cache .pytest_cache
	rm -rf $(BUILDS_DIR)/*/ $(BUILDS_STAMP)
