# Keyuan 客源 CRM — the two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
VENV := .venv
PY := $(VENV)/bin/python
# uv from PATH, else the copy pip installs for $(PYTHON) (run as a module: no PATH assumptions).
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
PYTEST_ARGS ?=
REGISTRY := libs/crmkit/src/crmkit/components.toml
# The components' folders, read from the registry with the machine's python (no venv needed).
COMPONENT_PATHS = $(shell $(PYTHON) -c 'import sys, tomllib; \
	print(" ".join(c["path"] for c in tomllib.load(open(sys.argv[1], "rb"))["components"].values()))' $(REGISTRY))

# Debian's Chromium, which Playwright drives for the browser tests (its own download cannot work here).
CHROMIUM := /usr/bin/chromium
# The web workspace (console, mobile H5, shared package): its own package.json and lock.
WEB_WORKSPACE := $(wildcard web/package.json)

.PHONY: help install uv buf proto openapi web web-build browser lint format test test-unit test-e2e run bench lock clean

help:
	@echo "make run      start NATS, services and gateway with demo data (http://127.0.0.1:8000)"
	@echo "make test     install everything and run the whole test suite"
	@echo "make lint     ruff, mypy and buf lint"
	@echo "make proto    regenerate Python code from proto/"
	@echo "make openapi  rewrite web/shared/openapi.json from the gateway (then npm --prefix web run gen:api)"
	@echo "make web-build  build the console and the mobile H5 when their builds are out of date"
	@echo "make bench    load benchmark against a local stack on PostgreSQL"
	@echo "make lock     re-pin requirements/dev.txt from requirements/dev.in and the components' pyproject.toml"

uv:
	@if ! $(UV) --version >/dev/null 2>&1; then \
		echo "installing uv $(UV_VERSION)"; \
		$(PYTHON) -m pip install --user --quiet "uv==$(UV_VERSION)" \
		|| $(PYTHON) -m pip install --user --quiet --break-system-packages "uv==$(UV_VERSION)"; \
	fi

# Third-party packages and the shared libraries from the lock, then every registry component
# (editable, no dependencies: theirs are in the lock, which `make lock` compiles from their
# pyproject.toml files).
install: uv
	@[ -x $(PY) ] || $(UV) venv --quiet --python $(PYTHON) $(VENV)
	@$(UV) pip sync --quiet --python $(PY) requirements/dev.txt
	@$(UV) pip install --quiet --python $(PY) --no-deps $(addprefix -e ./,$(COMPONENT_PATHS))

# `npm install` with the committed lock, not `npm ci`: npm 11 drops other platforms' optional
# binaries from the lock and `npm ci` then refuses it as out of sync.
buf:
	@[ -x node_modules/.bin/buf ] || npm install --silent --no-audit --no-fund

proto: install
	$(PY) scripts/gen_proto.py

# The gateway's OpenAPI document, from which web/ generates its typed client (a test fails when stale).
openapi: install
	$(PY) -m crm_gateway.openapi

# `npm ci` in web/ when its packages are missing or older than web/package-lock.json; nothing
# before web/package.json exists (tools/devstack/src/crm_devstack/front_ends.py decides).
web: install
	@$(PY) -m crm_devstack.front_ends install

# `npm --prefix web run build` when web/console/dist or web/mobile/dist is missing or older than
# its sources (the app's folder, web/shared, the workspace's own files).
web-build: web
	@$(PY) -m crm_devstack.front_ends build

# Chromium for the browser tests: apt-get installs it when it is missing and we are root; otherwise
# (or when the install fails) the browser tests skip, or fail under CRM_REQUIRE_BROWSER=1.
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing chromium with apt-get"; \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 \
			|| { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } \
			|| echo "could not install chromium: the browser tests will skip"; \
		else \
			echo "$(CHROMIUM) missing: the browser tests will skip (as root, make browser installs it)"; \
		fi; \
	fi
	@# A Chinese font, or the screenshots show boxes where the UI shows 客户.
	@if [ -x $(CHROMIUM) ] && ! dpkg -s fonts-wqy-zenhei >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq --no-install-recommends fonts-wqy-zenhei >/dev/null 2>&1 \
		|| { apt-get update -qq && apt-get install -y -qq --no-install-recommends fonts-wqy-zenhei; } \
		|| echo "could not install a Chinese font: screenshots will show boxes"; \
	fi

lint: install buf web
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# The components' folders come from the registry (libs/crmkit/src/crmkit/components.toml).
	MYPYPATH="$$($(PY) -m crmkit.components src-dirs | tr ' ' ':')" \
		$(VENV)/bin/mypy libs/crmkit/src $$($(PY) -m crmkit.components src-dirs) tools/devstack/src
	node_modules/.bin/buf lint
ifneq ($(WEB_WORKSPACE),)
	npm --prefix web run lint
	npm --prefix web run typecheck
endif

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Vitest first (seconds), then pytest, whose e2e part runs the browser journeys (tests/e2e/test_browser.py).
test: install web browser
ifneq ($(WEB_WORKSPACE),)
	npm --prefix web test
endif
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

test-unit: install
	$(VENV)/bin/pytest -q -m "not e2e" $(PYTEST_ARGS)

test-e2e: install web browser
	$(VENV)/bin/pytest -q -m e2e tests/e2e $(PYTEST_ARGS)

# crm_devstack.run builds the front ends first when their builds are out of date.
run: install web
	$(PY) -m crm_devstack.run

bench: install
	$(PY) bench/load.py $(BENCH_ARGS)

lock: uv
	$(UV) pip compile --quiet requirements/dev.in $(addsuffix /pyproject.toml,$(COMPONENT_PATHS)) \
		--generate-hashes --python-version 3.11 -o requirements/dev.txt

clean:
	rm -rf .crm .pytest_cache .mypy_cache .ruff_cache
