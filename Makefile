# The two commands a newcomer needs: `make html` and `make test`. Everything else
# (environments, kernels, data cache) is set up by them. The frameworks come from
# build.yml; the build's command line is `python -m bookbuild` (see bookbuild/).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
BUILD_PY := .envs/build/bin/python
# Offline machines: d2l data files to seed the download cache from (sha1-checked on use).
DATA_MIRROR ?= ../shared/data
export D2L_DATA_DIR ?= $(HOME)/.cache/d2l/data

# $(call apt_install,who needs them,packages[,apt-get options]): Debian packages, installed where we may
# (as root, as in CI); elsewhere the command is printed and make stops.
apt_install = { packages="$(2)"; \
  if [ "$$(id -u)" = 0 ]; then echo "[apt] installing $$packages"; apt-get update -qq && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(3) $$packages >/dev/null; \
  else echo "$(1) need Debian packages: sudo apt-get install $(3) $$packages"; exit 1; fi; }

.PHONY: env env-build data html check merge pdf tex test test-d2l test-build test-pdf browser clean

# Environments are remade only when their requirement files change (see bookbuild/environments.py).
env: env-build
	@$(BUILD_PY) -m bookbuild.environments frameworks

env-build:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "Python 3.11 is needed (set PYTHON=...)")'
	@$(PYTHON) -m bookbuild.environments build

data:
	@if [ -d "$(DATA_MIRROR)" ]; then mkdir -p "$(D2L_DATA_DIR)" && cp -u "$(DATA_MIRROR)"/* "$(D2L_DATA_DIR)"/; fi

html: env data
	$(BUILD_PY) -m bookbuild html

# The per-tab CI step: execute one framework only, fail on any error.
check: env-build data
	@test -n "$(TAB)" || { echo "usage: make check TAB=<one of: $$($(BUILD_PY) -m bookbuild frameworks)>"; exit 2; }
	@$(BUILD_PY) -m bookbuild.environments frameworks $(TAB)
	$(BUILD_PY) -m bookbuild check --tab $(TAB)

# CI's last step: the site from notebooks executed by the per-tab jobs, without executing.
EXECUTED ?= _build/executed
merge: env-build
	$(BUILD_PY) -m bookbuild html --executed $(EXECUTED)

# One PDF per framework in _build/pdf (TeX from Debian packages), then the site linking them.
pdf: env data tex
	$(BUILD_PY) -m bookbuild pdf
	$(BUILD_PY) -m bookbuild html

tex: env-build
	@$(BUILD_PY) -c 'from bookbuild.pdf import check_toolchain; check_toolchain()' 2>/dev/null || \
	  $(call apt_install,The PDF,$$($(BUILD_PY) -c 'from bookbuild.pdf import PACKAGES; print(*PACKAGES)'),--no-install-recommends)

test: env browser test-d2l test-build

# Each framework's tests run in that framework's own environment.
test-d2l: env
	@for fw in $$($(BUILD_PY) -m bookbuild frameworks); do \
	  echo "== tests/d2l in .envs/$$fw"; \
	  D2L_FRAMEWORK=$$fw .envs/$$fw/bin/python -m pytest tests/d2l -q -p no:cacheprovider || exit 1; \
	done

test-build: env
	@$(PYTHON) -m bookbuild.environments oracle
	$(BUILD_PY) -m pytest tests/build -q -p no:cacheprovider

# The PDFs of `make pdf`: text, fonts, figures (CI runs it after `make pdf`).
test-pdf: env-build
	$(BUILD_PY) -m pytest tests/pdf -q -p no:cacheprovider

# The browser tests drive Debian's Chromium; install it where we may (root, as in CI).
browser:
	@command -v chromium >/dev/null || $(call apt_install,The browser tests,chromium)

clean:
	rm -rf _build
