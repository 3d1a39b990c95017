# userlicenses — the README's two commands are `make run` and `make test`.
GO ?= go
# PostgreSQL tests run when this is set (CI sets it in .ci/run), e.g.
# postgres://postgres@127.0.0.1:5432/test?sslmode=disable
LICENSES_TEST_POSTGRES_URL ?=
export LICENSES_TEST_POSTGRES_URL

.PHONY: run test unit build generate check-generate check-generate-go changelog check-changelog vet fmt-check bench bench-smoke bench-go bench-tools fuzz help

help:
	@echo "make run             serve the demo (embedded SQLite, demo data, prints a token)"
	@echo "make test            vet, gofmt, spec lint, breaking-change gate, generated-code drift, all tests (-race)"
	@echo "make generate        regenerate gen/, the TypeScript client and the web build from api/openapi.yaml"
	@echo "make changelog       write CHANGELOG.md's entry for the spec's version (oasdiff against api/released/)"
	@echo "make test-browser    the Playwright tests of /ui/ and /docs in Debian's Chromium (make browser-tools installs it)"
	@echo "make bench           licensesd against bare net/http, bare Echo and Prism (tools/bench; BENCH_ARGS narrows the matrix)"
	@echo "make bench-smoke     the same benchmark on a tiny matrix in seconds (CI), asserting nothing about speed"
	@echo "make bench-go        Go micro-benchmarks of the hot path (-benchmem)"
	@echo "make contract-test   the end-to-end suite through Stoplight Prism (needs Node)"
	@echo "make fuzz            the request-path fuzzers, FUZZTIME each (default 60s)"

run:
	$(GO) run ./cmd/licensesd demo

build:
	$(GO) build -o bin/licensesd ./cmd/licensesd
	$(GO) build -o bin/licensesctl ./cmd/licensesctl

# Go (gen/) and TypeScript (web/src/api/schema.ts, then the built page in
# internal/webui/dist) from api/openapi.yaml.
generate: web-tools
	$(GO) generate ./...
	node web/scripts/build.mjs

# What the spec produces must be exactly what is in the working tree
# (committed or not): generate into a temporary folder and compare, leaving
# the tree alone. web-check does the same for the TypeScript client and the
# built page.
check-generate: check-generate-go web-check

check-generate-go:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	sed "s|^output:.*|output: $$tmp/api.gen.go|" oapi-codegen.yaml >"$$tmp/oapi-codegen.yaml"; \
	$(GO) run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config "$$tmp/oapi-codegen.yaml" api/openapi.yaml || exit 1; \
	if ! cmp -s "$$tmp/api.gen.go" gen/api.gen.go; then \
		diff -u gen/api.gen.go "$$tmp/api.gen.go" | sed -n '1,40p'; \
		echo "check-generate: gen/api.gen.go differs from what api/openapi.yaml produces. Run 'make generate' and commit gen/ with the spec."; \
		exit 1; fi; \
	echo "check-generate: gen/ matches api/openapi.yaml"

# CHANGELOG.md, the contract's changelog: write the entry of the spec's
# version from oasdiff's changelog against api/released/openapi.yaml.
changelog:
	@$(GO) run ./tools/changelog -write

check-changelog:
	@$(GO) run ./tools/changelog -check

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then \
		echo "fmt-check: run gofmt -w on:"; echo "$$out"; exit 1; fi

test: vet fmt-check check-generate lint-spec check-breaking check-changelog unit test-browser

unit:
	$(GO) test -race -count=1 ./...
	@if [ -z "$$LICENSES_TEST_POSTGRES_URL" ]; then \
		echo ""; \
		echo "NOTE: LICENSES_TEST_POSTGRES_URL is unset, so the PostgreSQL tests were SKIPPED:"; \
		echo "      the store suite on PostgreSQL, migrations, fault injection and the two-replica race"; \
		echo "      (internal/postgres, internal/e2e TestReplicas*). Set it to run them, e.g."; \
		echo "      LICENSES_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' make test"; \
	fi

# The benchmark program (issue 16): every target its own process, wrk as
# the load generator, results in bench/results/. Not part of `make test`.
BENCH_ARGS ?=
bench: bench-tools contract-tools
	BENCH_COMMAND='make bench BENCH_ARGS="$(BENCH_ARGS)"' $(GO) run ./tools/bench run $(BENCH_ARGS)

# Seconds: every target and operation once on a tiny matrix; fails only
# when a request is not answered as expected, never on speed.
bench-smoke: bench-tools contract-tools
	$(GO) run ./tools/bench run -smoke -out "" -users 200 -conns 1,4 -duration 1s -warmup 0s

# wrk comes from the distribution (Debian/Ubuntu: apt-get).
bench-tools:
	@command -v wrk >/dev/null || { command -v apt-get >/dev/null && (apt-get update -qq && apt-get install -y -qq wrk >/dev/null); } || \
		{ echo "bench-tools: wrk is needed (apt-get install wrk)" >&2; exit 1; }

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./internal/sqlite/ ./internal/postgres/ ./internal/e2e/ ./internal/httpapi/ ./internal/auth/ ./internal/licensing/ ./internal/ctl/

# The request-path fuzzers, each for FUZZTIME. Their seed corpora (the
# security review's attacks) also run as plain tests in make test; what a
# run finds is written under the package's testdata/fuzz, to be committed
# with the fix.
FUZZTIME ?= 60s
FUZZERS := ./internal/httpapi:FuzzCheckJSON ./internal/auth:FuzzHS256Verify ./internal/e2e:FuzzPatchBody
fuzz:
	@set -e; for f in $(FUZZERS); do \
		echo "fuzz: $${f#*:} in $${f%%:*} for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${f#*:}$$" -fuzztime $(FUZZTIME) "$${f%%:*}"; \
	done


-include tools/contract/contract.mk
-include web/web.mk
