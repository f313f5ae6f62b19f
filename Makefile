# The first two targets are the README's first two commands.
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8080
SANDBOX_PORT ?= 8081

.PHONY: demo test check bench profile clean

$(VENV)/bin/activate:
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/activate
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	@echo "Try, in another terminal:"
	@echo "  curl 'http://$(HOST):$(PORT)/api/v1/metrics?api_key='\$$($(PY) -c 'from proxy.sandbox.seed import DEMO_PRIVATE_KEY as k; print(k)')"
	@echo "  curl 'http://$(HOST):$(PORT)/api/track?data='\$$(printf '{\"token\":\"DemoPk\",\"event\":\"Ordered Product\",\"customer_properties\":{\"\$$email\":\"ada@example.com\"},\"properties\":{\"\$$value\":42}}' | base64 -w0)"
	@echo "  curl 'http://$(HOST):$(SANDBOX_PORT)/__sandbox/state'    # what the sandbox holds"
	@echo
	$(VENV)/bin/klaviyo-legacy-proxy serve --sandbox --host $(HOST) --port $(PORT) --sandbox-port $(SANDBOX_PORT) --log-format console

test: $(VENV)/.installed
	$(PY) -m pytest -q

bench: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test,bench]'
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) -m bench.run

# Where the proxy's CPU goes under load: bench/results/profile-$(LABEL)-<date>.md
LABEL ?= now
profile: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test,bench]'
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) -m bench.profile --label $(LABEL)

check: $(VENV)/.installed
	$(VENV)/bin/klaviyo-legacy-proxy check

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
