# keyway — run `make help` for the targets.
GO      ?= go
BIN     ?= bin/keyway
PKGS_UNIT = ./internal/... ./client/...

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: ## Run keyway (data plane :8080, Core API + dashboard :8081, data in ./keyway-data)
	$(GO) run ./cmd/keyway serve

.PHONY: build
build: ## Build the keyway binary into bin/keyway
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/keyway

# The end-to-end suite runs twice: on SQLite, then on PostgreSQL (with the
# multi-node tests). PostgreSQL tests use KEYWAY_TEST_POSTGRES (default: the
# local server); they skip when it is unreachable, except with CI=true.
.PHONY: test
test: ## Run the whole test suite (vet, unit tests with -race, end-to-end tests on SQLite and PostgreSQL)
	$(GO) vet ./...
	$(GO) test -race -count=1 $(PKGS_UNIT)
	KEYWAY_E2E_DATABASE=sqlite $(GO) test -count=1 ./e2e/...
	KEYWAY_E2E_DATABASE=postgres $(GO) test -count=1 ./e2e/...

.PHONY: test-unit
test-unit: ## Run only the unit tests (with -race)
	$(GO) test -race -count=1 $(PKGS_UNIT)

.PHONY: test-e2e
test-e2e: ## Run only the end-to-end tests, on SQLite and on PostgreSQL (builds the binary once per pass)
	KEYWAY_E2E_DATABASE=sqlite $(GO) test -count=1 ./e2e/...
	KEYWAY_E2E_DATABASE=postgres $(GO) test -count=1 ./e2e/...

.PHONY: pg-dump
pg-dump: ## Write the PostgreSQL upgrade-test dump of the head migration (before adding a migration; needs pg_dump)
	KEYWAY_WRITE_PG_DUMP=1 $(GO) test -count=1 -run '^TestWriteDump$$' ./internal/store/postgres/

.PHONY: screenshots
screenshots: ## Save PNGs of the dashboard's main pages in docs/screenshots (needs Chromium)
	mkdir -p docs/screenshots
	KEYWAY_E2E_DATABASE=sqlite KEYWAY_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run '^(TestDashboardInBrowser|TestTeamsInBrowser|TestMonitoringInBrowser)$$' ./e2e/
	rm -f docs/screenshots/failure.png

.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME (default 20s)
	@for pkg in $$($(GO) list ./internal/...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $${FUZZTIME:-20s} $$pkg || exit 1; \
	  done; \
	done

.PHONY: lint
lint: ## gofmt check and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

.PHONY: bench
bench: ## Load benchmark: keyway vs nginx vs bare ReverseProxy vs direct (installs wrk and nginx from Debian)
	bench/run.sh

.PHONY: generate
generate: ## Regenerate generated files (none yet)
	$(GO) generate ./...

.PHONY: clean
clean: ## Remove build output
	rm -rf bin
