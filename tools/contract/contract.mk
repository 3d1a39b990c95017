# Contract gates (issue 5), included from the top Makefile. Run from the
# repository root. Each gate prints which gate failed, the rule and place,
# and how to fix it or how to record a deliberate break.
#
#   make contract-tools          npm ci of the pinned Spectral + Prism (only when the lock file changed)
#   make lint-spec               Spectral, ruleset api/.spectral.yaml, zero problems; then its self-test
#   make check-breaking          oasdiff vs api/released/openapi.yaml; then its self-test (Go only, no Node)
#   make contract-test           the end-to-end suite through Prism's validation proxy
#   make contract                all of the above
#
# Tool versions are pinned in tools/contract/package-lock.json (Spectral,
# Prism) and in OASDIFF below (run through the Go module proxy, kept out of
# go.mod so that it cannot change our dependency graph).

GO ?= go
NPM ?= npm
CONTRACT_DIR := tools/contract
OASDIFF_VERSION := v1.37.0
export OASDIFF ?= $(GO) run github.com/oasdiff/oasdiff@$(OASDIFF_VERSION)
PRISM_BIN := $(abspath $(CONTRACT_DIR)/node_modules/.bin/prism)
CONTRACT_STAMP := $(CONTRACT_DIR)/node_modules/.installed
# The end-to-end suite is the lead's; until internal/e2e exists only the
# proxy's own tests run (and contract-test says so).
CONTRACT_TEST_PKGS := ./internal/prismproxy/... $(if $(wildcard internal/e2e),./internal/e2e/...)

.PHONY: contract contract-tools lint-spec lint-spec-selftest check-breaking check-breaking-selftest contract-test

contract: lint-spec check-breaking contract-test

contract-tools: $(CONTRACT_STAMP)

# npm ci only when node_modules is missing or older than the lock file.
# --ignore-scripts: the only install script in the tree is @scarf/scarf's
# usage report (a network call); Spectral and Prism need none.
$(CONTRACT_STAMP): $(CONTRACT_DIR)/package-lock.json $(CONTRACT_DIR)/package.json
	@command -v node >/dev/null || { echo "contract-tools: FAILED — Node.js 20.17+ is needed for Spectral and Prism (https://nodejs.org, or your package manager)." >&2; exit 1; }
	$(NPM) ci --prefix $(CONTRACT_DIR) --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

lint-spec: contract-tools
	@bash $(CONTRACT_DIR)/lint-spec.sh
	@$(GO) run ./$(CONTRACT_DIR)/selftest -gate lint

# Proves the lint gate can fail: a copy with one edit per rule must be refused.
lint-spec-selftest: contract-tools
	@$(GO) run ./$(CONTRACT_DIR)/selftest -gate lint

check-breaking:
	@bash $(CONTRACT_DIR)/check-breaking.sh
	@$(GO) run ./$(CONTRACT_DIR)/selftest -gate breaking

# Proves the breaking-change gate can fail: known-breaking edits to copies of
# the spec must be refused, harmless ones accepted.
check-breaking-selftest:
	@$(GO) run ./$(CONTRACT_DIR)/selftest -gate breaking

contract-test: contract-tools
	@$(if $(wildcard internal/e2e),,echo "contract-test: note — internal/e2e does not exist yet; only internal/prismproxy's tests run." >&2)
	LICENSES_TEST_PRISM=$(PRISM_BIN) $(GO) test -race -count=1 $(CONTRACT_TEST_PKGS)
