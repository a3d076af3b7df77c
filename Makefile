# EIKIS: `make run` runs the sample month end to end; `make test` runs the tests. Both set themselves up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PERIOD ?= 2026-11
OUT ?= var

PORTAL_DB ?= sqlite:///$(abspath $(OUT))/work/eikis.sqlite

.PHONY: run aldis claims test lint bench bench-smoke sample clean setup setup-dev airflow portal

$(BIN)/.core: pyproject.toml setup.py pipeline/sources/_canonscan.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(BIN)/.dev: pyproject.toml setup.py pipeline/sources/_canonscan.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[airflow,dev]'
	touch $(BIN)/.core $@

setup: $(BIN)/.core
setup-dev: $(BIN)/.dev

run: $(BIN)/.core
	EIKIS_DEV_MODE=1 $(BIN)/eikis run --period $(PERIOD) --inbox sample_data/inbox --outbox $(OUT)/outbox \
		--policy policy/eikis_policy.yaml --workdir $(OUT)/work

# ALDIS protected users for the sample month (CONTRACTS §12): SOPA -> each trader's contracts, returns to SOPA.
aldis: $(BIN)/.core
	EIKIS_DEV_MODE=1 $(BIN)/eikis aldis --period $(PERIOD) --inbox sample_data/inbox --outbox $(OUT)/aldis_outbox \
		--traders policy/traders.yaml --workdir $(OUT)/work

# Supplier compensation claims for the sample month (CONTRACTS §13), after `make run` (and `make aldis`, for the
# protected-user claims): sample claim files from the published outbox, then a preview of the claims check.
# Approve the payout with `make claims APPROVE=--approve` (the ledger is $(OUT)/work/eikis.sqlite).
CLAIMS_AS_OF ?= $(PERIOD)
claims: $(BIN)/.core
	rm -rf $(OUT)/claims/$(PERIOD)
	$(BIN)/eikis generate-claims --period $(PERIOD) --published $(OUT)/outbox --out $(OUT)/claims \
		--policy policy/eikis_policy.yaml --seed 7 $(if $(wildcard $(OUT)/aldis_outbox/$(PERIOD)),--aldis $(OUT)/aldis_outbox)
	$(BIN)/eikis claims --period $(PERIOD) --claims $(OUT)/claims --published $(OUT)/outbox \
		$(if $(wildcard $(OUT)/aldis_outbox/$(PERIOD)),--aldis $(OUT)/aldis_outbox) --outbox $(OUT)/claims_outbox \
		--policy policy/eikis_policy.yaml --workdir $(OUT)/work --as-of $(CLAIMS_AS_OF) $(APPROVE)

test: $(BIN)/.dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-logo
	$(BIN)/pytest

lint: $(BIN)/.dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-logo

sample: $(BIN)/.core
	$(BIN)/eikis generate --period $(PERIOD) --out sample_data/inbox --scale sample --seed 7 --inject-bad

bench: $(BIN)/.core
	$(BIN)/python scripts/bench.py

bench-smoke: $(BIN)/.core
	$(BIN)/python scripts/bench.py --smoke

# Airflow on this machine (UI on http://localhost:8080, credentials printed at start-up), on the sample inbox.
# `airflow standalone` starts its components by the bare name `airflow`: without .venv/bin on PATH they die.
AIRFLOW_HOME ?= $(CURDIR)/$(OUT)/airflow
airflow: $(BIN)/.dev
	PATH="$(CURDIR)/$(BIN):$$PATH" \
	AIRFLOW_HOME="$(AIRFLOW_HOME)" AIRFLOW__CORE__DAGS_FOLDER="$(CURDIR)/dags" AIRFLOW__CORE__LOAD_EXAMPLES=False \
	EIKIS_INBOX="$${EIKIS_INBOX:-$(CURDIR)/sample_data/inbox}" EIKIS_OUTBOX="$${EIKIS_OUTBOX:-$(CURDIR)/$(OUT)/outbox}" \
	EIKIS_WORKDIR="$${EIKIS_WORKDIR:-$(CURDIR)/$(OUT)/work}" \
	EIKIS_POLICY="$${EIKIS_POLICY:-$(CURDIR)/policy/eikis_policy.yaml}" \
	$(BIN)/airflow standalone

clean:
	rm -rf var .pytest_cache

# The staff lookup portal on the store `make run` filled (add a user first: README, "Staff lookup portal").
portal: $(BIN)/.core
	$(BIN)/eikis portal --db $(PORTAL_DB)
