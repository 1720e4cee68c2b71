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

# The Slack app when its credentials are set (environment or .env), else the console.
run: $(STAMP)
	$(BIN)/ssot index
	@set -a; [ -f .env ] && . ./.env; set +a; \
	if [ -n "$$SLACK_BOT_TOKEN" ] && [ -n "$$SLACK_APP_TOKEN" ]; then exec $(BIN)/ssot serve; \
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
