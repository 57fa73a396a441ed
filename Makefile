# The README's commands. Each installs what it needs from uv.lock on first use:
# uv itself into .tools/ (pinned), then the project and its dev tools into .venv/.
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never

.PHONY: release refresh test lint browser dev install bench bench-resolution bench-wikidata

install: $(VENV)/.synced

$(UV): uv-requirements.txt
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --require-hashes -r uv-requirements.txt

# --compile-bytecode: every process then reads the libraries' .pyc files instead of
# compiling their source, which it must do on every start where PYTHONDONTWRITEBYTECODE
# is set (importing dagster, pandera, duckdb and pandas: 3.6 s without, 1.4 s with).
$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	touch $@

## Build and publish a release from the stored snapshots (no network needed).
release: $(VENV)/.synced
	$(VENV)/bin/citydip release

## Fetch every live source, then build and publish a release.
refresh: $(VENV)/.synced
	$(VENV)/bin/citydip release --refresh

## Lint, type-check and run the test suite (what CI runs).
test: lint browser $(VENV)/.synced
	$(VENV)/bin/pytest

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

## Debian's chromium, which the report.html test drives through playwright (when absent).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		if ! command -v apt-get >/dev/null; then \
			echo "make browser: no apt-get here; install Chromium at /usr/bin/chromium for the report test (it skips without it, and fails in CI)"; \
		else \
			sudo=$$([ "$$(id -u)" -eq 0 ] || echo "sudo -n"); \
			{ $$sudo apt-get update && \
			  $$sudo env DEBIAN_FRONTEND=noninteractive \
				apt-get install -y --no-install-recommends chromium; } || \
			echo "make browser: could not install Debian's chromium (root or sudo needed); the report test skips without it, and fails in CI"; \
		fi; \
	fi

## The Dagster UI and daemon (schedules fire while it runs): http://127.0.0.1:3000
dev: $(VENV)/.synced
	$(VENV)/bin/citydip dev

## Whole builds from generated inputs at 1x, 10x and 100x the recorded sources in ../shared/data:
## stage times, memory, no-op rebuilds, release size, query latency; prints the ratios next to
## their targets and writes bench/results.json and BENCHMARKS.md. BENCH_ARGS="--factors 1,10"
bench: $(VENV)/.synced
	$(VENV)/bin/python -m bench.build $(BENCH_ARGS)

## Resolver accuracy and speed on the recorded sources in ../shared/data (prints figures)
bench-resolution: $(VENV)/.synced
	$(VENV)/bin/python -m bench.resolution

## Wikidata path speed on the 2016 P190 crawl in ../shared/data, at 1x and 10x (prints figures)
bench-wikidata: $(VENV)/.synced
	$(VENV)/bin/python -m bench.wikidata
