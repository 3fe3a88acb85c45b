# Confiance: `make run` to use it, `make test` to check it. Everything installs from here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEPS := $(VENV)/.deps-installed
NODE_DEPS := node_modules/.installed
STATIC_MANIFEST := staticfiles/staticfiles.json

.PHONY: run dev test lint format bench install messages makemessages migrate demo clean

# A local run serves on this address; elsewhere, set SITE_URL to the public address.
run: install migrate
	$(BIN)/confiance demo
	SITE_URL="$${SITE_URL:-http://127.0.0.1:8000}" $(BIN)/confiance serve

dev: install migrate
	$(BIN)/confiance demo
	DEBUG=true $(BIN)/confiance runserver 127.0.0.1:8000

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest
	@if [ -n "$$CONFIANCE_TEST_DATABASE_URL" ]; then \
		echo "== the suite again on $$CONFIANCE_TEST_DATABASE_URL"; \
		DATABASE_URL="$$CONFIANCE_TEST_DATABASE_URL" $(BIN)/pytest || exit 1; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python bench/run.py

install: $(DEPS) $(NODE_DEPS) var/secret_key messages $(STATIC_MANIFEST)

$(DEPS): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(NODE_DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The secret key is generated once and stays in this git-ignored file.
var/secret_key:
	mkdir -p var
	umask 077 && $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(64))" > $@

# Static files are collected at install, again whenever one of them changes (`confiance serve`
# also collects what is missing, so no order of commands ends in a page without its files).
$(STATIC_MANIFEST): $(DEPS) $(NODE_DEPS) var/secret_key $(shell find confiance -path '*/static/*' -type f 2>/dev/null)
	$(BIN)/confiance collectstatic --noinput -v0

# Compiled with Babel (from PyPI), so GNU gettext is not needed on the machine.
messages: $(DEPS)
	$(BIN)/pybabel -q compile -d confiance/locale -D django

# Extracting strings needs GNU gettext (developers only); then fill in the French.
makemessages: install
	$(BIN)/confiance makemessages -l fr --no-obsolete --no-location \
		--ignore node_modules --ignore staticfiles --ignore bench --ignore tests

migrate: install
	$(BIN)/confiance migrate --noinput -v0

clean:
	rm -rf $(VENV) node_modules staticfiles
