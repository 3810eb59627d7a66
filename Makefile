# imagesearch: `make run` sets everything up and serves the app; `make test` runs the test suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup run serve demo test test-fast lint format stop clean browser-deps lock

setup: $(VENV)/.installed .env

# One venv for running and testing: the app, its optional groups and the test tools, at the locked versions
# (requirements.lock: the versions CI tests; the Dockerfile installs the same).
REQUIREMENTS := requirements.txt requirements-captions.txt requirements-web.txt requirements-s3.txt requirements-lab.txt requirements-dev.txt
$(VENV)/.installed: $(REQUIREMENTS) requirements.lock
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt -c requirements.lock
	touch $@

# Rewrites requirements.lock from the venv after a deliberate upgrade (pip install -U ... first, then the tests).
# Torch's CUDA libraries are left out: which ones torch needs depends on the wheel index it came from.
lock:
	@{ echo "# Exact versions CI tests, from \`make lock\` (pip freeze of the tested venv); a constraints file:"; \
	   echo "# pip install -r requirements-dev.txt -c requirements.lock"; \
	   $(VENV)/bin/pip freeze --exclude-editable | grep -viE '^(nvidia-|cuda-|triton==|pip==|setuptools==|wheel==)' | LC_ALL=C sort -f; \
	} > requirements.lock

# Every entry point (manage.py, the web server, Celery) reads .env: made once from .env.example, with a new secret key.
.env:
	@sed "s|^SECRET_KEY=.*|SECRET_KEY=$$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')|" .env.example > $@
	@echo "Wrote .env from .env.example (edit it to configure imagesearch)."

run: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(MAKE) --no-print-directory demo
	$(VENV)/bin/honcho start -f Procfile

# A small collection to try the app with, rendered by the project's benchmark generator, only into an empty index.
demo: setup
	@if [ "$$($(PY) manage.py shell -c 'from search.models import Image; print(Image.objects.exists())' 2>/dev/null | tail -n1)" = "True" ]; then \
		echo "The collection is not empty: no demo images added."; \
	else \
		$(PY) manage.py make_dataset var/demo --train 0 --test 400 --seed 7 && \
		$(PY) manage.py ingest var/demo/images && \
		$(PY) manage.py import_captions var/demo; \
	fi

test: setup browser-deps
	$(VENV)/bin/pytest

# Everything but the served-system and browser tests: a quick loop while editing.
test-fast: setup
	$(VENV)/bin/pytest -m "not system and not browser"

# The browser tests drive Debian's Chromium through Playwright (never `playwright install`); installed when missing.
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y chromium chromium-driver; \
	fi

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format:
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Stops the embedded PostgreSQL and Redis (they keep running between commands so every process can share them).
stop: setup
	$(PY) -c "from pathlib import Path; from imagesearch.embedded_postgres import stop_embedded_server; stop_embedded_server(Path('var/pgdata'))"
	$(PY) -c "from pathlib import Path; from imagesearch.redis_server import stop_embedded_redis; stop_embedded_redis(Path('var/redis'))"

clean: stop
	rm -rf var
