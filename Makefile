# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# On this machine kind the CPU wheel of torch lies on disk; elsewhere pip takes PyPI's.
TORCH := torch==2.13.0

.PHONY: run test lint index eval bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Slack and/or Teams when their credentials are set (environment or .env), else the console.
# Teams is served over HTTP only; TEAMS_DEV=1 (no tokens) only on loopback.
run: $(STAMP)
	$(BIN)/ssot index
	@set -a; [ -f .env ] && . ./.env; set +a; \
	if [ -n "$$TEAMS_DEV" ] && [ "$$TEAMS_DEV" != "0" ]; then \
	  exec $(BIN)/ssot serve --http --host 127.0.0.1 --port $${PORT:-3978}; \
	elif [ -n "$$TEAMS_CLIENT_ID" ] && [ -n "$$TEAMS_CLIENT_SECRET" ]; then \
	  exec $(BIN)/ssot serve --http --port $${PORT:-3000}; \
	elif [ -n "$$SLACK_BOT_TOKEN" ] && [ -n "$$SLACK_APP_TOKEN" ]; then exec $(BIN)/ssot serve; \
	elif [ -n "$$SLACK_BOT_TOKEN" ] && [ -n "$$SLACK_SIGNING_SECRET" ]; then \
	  exec $(BIN)/ssot serve --http --port $${PORT:-3000}; \
	else exec $(BIN)/ssot chat; fi

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

index: $(STAMP)
	$(BIN)/ssot index

eval: $(STAMP)
	$(BIN)/ssot eval tests/eval/questions.jsonl

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_ask.py

clean:
	rm -rf var/cache
