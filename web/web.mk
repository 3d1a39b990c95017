# The web page (issue 15), included from the top Makefile. Run from the
# repository root.
#
#   make web-tools      npm ci of the pinned toolchain in web/ (only when the lock file changed)
#   make web-build      the TypeScript client from the spec, type check, build into internal/webui/dist
#   make web-check      the same into a temporary folder, compared with the working tree
#   make browser-tools  Debian's Chromium, for the browser tests (apt-get; CI runs it)
#   make test-browser   the Playwright tests against a real licensesd (skipped, saying so, without Chromium)

NPM ?= npm
WEB_DIR := web
WEB_STAMP := $(WEB_DIR)/node_modules/.installed
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM

.PHONY: web-tools web-build web-check browser-tools test-browser

web-tools: $(WEB_STAMP)

# --ignore-scripts: no package here needs an install script, and
# swagger-ui-dist's (@scarf/scarf) only reports usage over the network.
$(WEB_STAMP): $(WEB_DIR)/package-lock.json $(WEB_DIR)/package.json
	@command -v node >/dev/null || { echo "web-tools: FAILED — Node.js 20.19+ is needed to build the web page (https://nodejs.org, or your package manager)." >&2; exit 1; }
	$(NPM) ci --prefix $(WEB_DIR) --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

web-build: web-tools
	node $(WEB_DIR)/scripts/build.mjs

web-check: web-tools
	@node $(WEB_DIR)/scripts/build.mjs --check

browser-tools:
	@if [ -x $(CHROMIUM) ]; then echo "browser-tools: $(CHROMIUM) is installed"; else \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null && \
		echo "browser-tools: installed $$($(CHROMIUM) --version)"; fi

# The web tests: the error placement's unit tests, then the browser tests
# against a licensesd built from this tree (the tests start it themselves:
# `licensesd demo`, a temporary seeded SQLite file, 127.0.0.1, a free port,
# stopped after each test or by timeout(1) at the latest). Without Chromium
# the browser tests skip and say so; with REQUIRE_BROWSER set (CI) they fail.
test-browser: web-tools
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(GO) build -o "$$tmp/licensesd" ./cmd/licensesd && \
	(cd $(WEB_DIR) && LICENSESD="$$tmp/licensesd" node --test --test-concurrency=1 --test-timeout=120000 tests/*.test.mjs) || exit 1; \
	if [ ! -x $(CHROMIUM) ]; then \
		echo ""; \
		echo "NOTE: the browser tests (web/tests, Playwright in Chromium) were SKIPPED: $(CHROMIUM) is not installed."; \
		echo "      'make browser-tools' installs it (apt-get); .ci/run does and runs them."; \
	fi
