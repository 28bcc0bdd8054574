# The README's two commands: `make run` (embedded default, no servers) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PORT   ?= 5000

.PHONY: run test lint bench install chromium nginx check-services clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/actionwave up --port $(PORT)

test: install chromium nginx check-services
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .

# Browser tests drive Debian's Chromium through Playwright (a Playwright browser download fails here).
chromium:
	@{ command -v chromium && fc-list :lang=zh-tw | grep -q .; } >/dev/null 2>&1 || { \
	  echo "installing Debian chromium and a CJK font for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

# The proxy docker-compose runs (deploy/nginx) is tested and benchmarked with Debian's nginx.
nginx:
	@{ command -v nginx || test -x /usr/sbin/nginx; } >/dev/null 2>&1 || { \
	  echo "installing Debian nginx for the proxy tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }

check-services:
	@$(BIN)/python -m tests.services

bench: install nginx
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python bench/intake.py --quick

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
