# The two commands a newcomer needs: `make html` and `make test`. Everything else
# (environments, kernels, the data cache) is set up by them. The frameworks come from
# build.yml; the build's command line is `python -m bookbuild` (see bookbuild/).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
BUILD_PY := .envs/build/bin/python
# The build's tests; one that hangs fails after TEST_TIMEOUT seconds with its traceback, well inside
# CI's 90 minutes (the longest waits, a notebook's environment made from scratch or the real chapter's
# first build, are a few minutes).
TEST_TIMEOUT ?= 900
BUILD_PYTEST = $(BUILD_PY) -m pytest -q -p no:cacheprovider --timeout $(TEST_TIMEOUT)
# Offline machines: DATA_MIRROR names a folder of d2l data files (default: bookbuild/config.py).
# Optional, for one build: TIMEOUT=<seconds a cell may run>, JOBS=<kernels at once>, BASE_PATH=<the site's
# path on its host, for its 404 page: default />, QUIET=1 (warnings and errors only),
# VERBOSE=1, RETRY=1 (run again the notebooks that failed, though nothing they run from changed: a failure
# is cached as a finished run is);
# BOOK=<another build.yml> builds that book (e.g. a test's); BOOK=<a folder> builds its build.yml, or else
# a d2lbook project from its config.ini (written under _build/books/<folder name>/; the folder is only read).
# EXECUTE=none: run no notebook (pages show their code, and outputs only where the cache holds them);
# no framework environment is made or needed (bookbuild/config.py, EXECUTE).
BOOK ?= build.yml
BUILD_OPTIONS = --config $(BOOK) $(if $(TIMEOUT),--timeout $(TIMEOUT)) $(if $(JOBS),--jobs $(JOBS)) \
  $(if $(BASE_PATH),--base-path $(BASE_PATH)) $(if $(QUIET),-q) $(if $(VERBOSE),-v) $(if $(RETRY),--retry) $(if $(EXECUTE),--execute $(EXECUTE))
BOOKBUILD = $(BUILD_PY) -m bookbuild $(BUILD_OPTIONS)
# What a render needs made first: the frameworks' environments only when notebooks run.
RENDER_ENV = $(if $(filter none,$(EXECUTE)),env-build,env)

# $(call apt_install,who needs them,packages[,apt-get options]): Debian packages, installed where we may
# (as root, as in CI); elsewhere the command is printed and make stops.
apt_install = { packages="$(2)"; \
  if [ "$$(id -u)" = 0 ]; then echo "[apt] installing $$packages"; apt-get update -qq && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(3) $$packages >/dev/null; \
  else echo "$(1) need Debian packages: sudo apt-get install $(3) $$packages"; exit 1; fi; }

.PHONY: env env-build html check lib merge merge-pdf pdf tex serve audit audit-tools lint test test-d2l test-build test-elsewhere test-pdf test-wholebook browser clean

# Environments are remade only when their requirement files change, or when a
# framework no longer imports (see bookbuild/environments.py).
env: env-build
	@$(BUILD_PY) -m bookbuild.environments frameworks

env-build:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "Python 3.11 is needed (set PYTHON=...)")'
	@$(PYTHON) -m bookbuild.environments build

html: $(RENDER_ENV)
	$(BOOKBUILD) html

# Check that d2l/ is the library the book's #@save cells define (`make lib` writes it), then execute (cached)
# and compare the tabs, failing on any error or disagreement; render nothing.
# CI runs one framework per job: `make check TAB=pytorch`, optionally one shard: SHARD=2/3.
check: env-build
	@$(BUILD_PY) -m bookbuild.environments frameworks $(TAB)
	$(BOOKBUILD) check $(if $(TAB),--tab $(TAB)) $(if $(SHARD),--shard $(SHARD))

# The library the book defines (d2lbook's `build lib`): every #@save cell of the build's pages, in toc order,
# written into d2l/<module>.py below each module's hand-written part. `make check` fails when d2l/ differs.
lib: env-build
	$(BOOKBUILD) lib

# CI's last step: the site from notebooks executed by the per-tab jobs, without executing.
EXECUTED ?= _build/executed
merge: env-build
	$(BOOKBUILD) html --executed $(EXECUTED)

# CI's PDFs: from the same executed notebooks (TeX from Debian packages: `make tex`).
merge-pdf: env-build
	$(BOOKBUILD) pdf --executed $(EXECUTED)

# A live preview: build, serve on http://localhost:8000/ (PORT=..., HOST=... to change; the defaults
# are in bookbuild/config.py), rebuild and reload on every change.
serve: env
	@$(BOOKBUILD) serve $(if $(PORT),--port $(PORT)) $(if $(HOST),--host $(HOST))

# One PDF per framework in _build/pdf (TeX from Debian packages), and the site linking them.
pdf: $(RENDER_ENV) tex
	$(BOOKBUILD) pdf

tex: env-build
	@$(BUILD_PY) -c 'from bookbuild.environments import check_tex; check_tex()' 2>/dev/null || \
	  $(call apt_install,The PDF,$$($(BUILD_PY) -c 'from bookbuild.environments import PACKAGES; print(*PACKAGES)'),--no-install-recommends)

# The reader's view measured: Lighthouse (mobile) and axe on every page with code, page weight,
# site size, against their targets (scripts/audit.py).
audit: html browser audit-tools
	$(BUILD_PY) scripts/audit.py

audit-tools: env-build
	@$(BUILD_PY) -m bookbuild.environments audit

# The project's own code checked: ruff (style, likely bugs, imports) and mypy (bookbuild/'s types), configured in
# pyproject.toml, run from their own environment (.envs/lint).
lint: env-build
	@$(BUILD_PY) -m bookbuild.environments lint
	.envs/lint/bin/ruff check
	.envs/lint/bin/mypy

# The code checked, then the library's tests and the build's side by side (their output kept apart).
test: env browser audit-tools lint
	@$(MAKE) --no-print-directory -j 2 --output-sync=target test-d2l test-build

# Each framework's tests run in that framework's own environment (build.yml, read by the build);
# TAB=<framework> tests one only (CI's per-framework jobs).
test-d2l: env-build
	@$(BUILD_PY) -m bookbuild.environments frameworks $(TAB)
	@frameworks="$$($(BUILD_PY) -m bookbuild frameworks)"; \
	$(BUILD_PY) -m bookbuild frameworks --table | while read fw module environment; do \
	  if [ -n "$(TAB)" ] && [ "$$fw" != "$(TAB)" ]; then continue; fi; \
	  echo "== tests/d2l: d2l.$$module in .envs/$$environment"; \
	  D2L_FRAMEWORKS="$$frameworks" D2L_FRAMEWORK=$$fw D2L_MODULE=$$module \
	    .envs/$$environment/bin/python -m pytest tests/d2l -q -p no:cacheprovider || exit 1; \
	done

# Side by side (pytest-xdist): most of the tests' time is waiting on kernels, Sphinx and the browser.
TEST_WORKERS ?= 4
test-build: env
	@$(PYTHON) -m bookbuild.environments oracle
	$(BUILD_PYTEST) tests/build -n $(TEST_WORKERS) --dist worksteal

# A downloaded notebook in a fresh environment: it installs its framework and d2l, then runs (slow: CI
# runs it after `make test`).
test-elsewhere: env
	$(BUILD_PYTEST) tests/elsewhere

# The PDFs of `make pdf`: text, fonts, figures (CI runs it after `make pdf`).
test-pdf: env-build
	$(BUILD_PYTEST) tests/pdf

# The whole Turkish book (../shared/book/d2l-tr, a d2lbook project, read only) rendered without executing: its
# site and its three PDFs (`make pdf` renders both), then their tests (CI runs it after test-pdf: minutes, not seconds).
WHOLE_BOOK ?= ../shared/book/d2l-tr
test-wholebook: env-build tex
	@$(MAKE) --no-print-directory pdf BOOK=$(WHOLE_BOOK) EXECUTE=none
	$(BUILD_PYTEST) tests/wholebook

# The browser tests drive Debian's Chromium (its headless shell; `make audit` the full browser) and read
# its printed PDFs with poppler; install them where we may (root, as in CI).
browser:
	@command -v chromium >/dev/null && command -v chromium-headless-shell >/dev/null && \
	  command -v pdftotext >/dev/null || \
	  $(call apt_install,The browser tests,chromium chromium-headless-shell poppler-utils)

clean:
	rm -rf _build
