# The two commands: `make demo` and `make test`. Each sets up .venv on first use, from requirements.lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
# The Python the lock is resolved for: that of CI and the servers (docs/dependencies.md §1).
LOCK_PYTHON := 3.11

.PHONY: demo test install lint bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Exactly the locked versions, each checked against the hashes in the lock (pip and setuptools included),
# anything else in .venv removed, then the project itself without dependencies; `pip check` fails when
# pyproject.toml asks for something the lock does not hold. Runs again only when the lock or pyproject.toml change.
$(STAMP): $(LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/pip-sync --quiet $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@$(BIN)/python -m pip check >/dev/null || { $(BIN)/python -m pip check; \
	  echo "$(LOCK) không khớp với pyproject.toml: chạy 'make lock' (docs/dependencies.md)." >&2; \
	  echo "$(LOCK) does not satisfy pyproject.toml: run 'make lock' (docs/dependencies.md)." >&2; exit 1; }
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tracker --config config.toml demo

test: $(STAMP)
	$(BIN)/python tests/run.py

# Only the set-up, for a server (deploy/README.md).
install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/run.py

# Refresh the lock on purpose: every package to the newest release pyproject.toml allows, or only
# PACKAGE=name (with what it needs). Then run `make test` and read the changelogs (docs/dependencies.md).
# Not through $(STAMP): its `pip check` refuses a pyproject.toml that asks for more than the lock holds,
# which is exactly when a new lock is needed; pip-tools comes from the current lock.
lock: | $(BIN)/python
	@$(BIN)/python -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] != "$(LOCK_PYTHON)")' || { \
	  echo "$(LOCK) được lập cho Python $(LOCK_PYTHON), .venv lại dùng $$($(BIN)/python -V): chạy make clean rồi make lock PYTHON=python$(LOCK_PYTHON)." >&2; \
	  echo "$(LOCK) is resolved for Python $(LOCK_PYTHON), .venv has $$($(BIN)/python -V): make clean, then make lock PYTHON=python$(LOCK_PYTHON)." >&2; exit 1; }
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	  --no-emit-index-url --no-emit-find-links --extra test --extra dev \
	  $(if $(PACKAGE),--upgrade-package $(PACKAGE),--upgrade) --output-file $(LOCK) pyproject.toml

clean:
	rm -rf $(VENV) data/tracker.db* data/inbox data/archive data/quarantine reports/*
