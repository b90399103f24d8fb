# rathaus developer tasks. `make help` lists them.
#
#   make run    build everything and start the demo: rathaus with a local
#               Dendrite homeserver (state in .demo/, see internal/demo);
#               VIDEO=livekit runs the calls on LiveKit (tools/livekit)
#   make test   install what the tests need (PostgreSQL 15 and Chromium from
#               Debian 12, the npm packages of tests/browser, the pinned
#               Synapse in a venv), build Dendrite and golangci-lint, then
#               go vet, make lint and every test
#   make lint   golangci-lint with .golangci.yml: STYLE.md's logging rules,
#               DESIGN.md's import rules, errorlint, noctx, bodyclose, thelper
#   make bench-video    the embedded media server against LiveKit v1.13.5
#               (built from tools/livekit, ~4 min the first time), same load
#               in one run, markdown table on stdout (see bench/video)
#   make bench-ingest   rathaus against a bare mautrix appservice, real
#               processes, markdown table on stdout (see bench/ingest;
#               BENCH_ARGS='-reps 1 -workloads txn100x1' for a short run)

GO       ?= go
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/rathaus-de/rathaus.Version=$(VERSION)

# The test and demo homeserver, built from its own pinned module.
DENDRITE_MOD := tools/dendrite
DENDRITE_BIN := $(CURDIR)/.cache/bin/dendrite
DENDRITE_PKG := github.com/element-hq/dendrite/cmd/dendrite

# The media server rathaus's embedded one is measured against, built from
# its own pinned module (LiveKit carries its own pion forks; it is never
# linked into rathaus).
LIVEKIT_MOD := tools/livekit
LIVEKIT_BIN := $(CURDIR)/.cache/bin/livekit-server
LIVEKIT_PKG := github.com/livekit/livekit-server/cmd/server

# The LiveKit participant the tests join rooms with (video/livekit/livekittest),
# built from its own module with LiveKit's Go client SDK.
LKPEER_MOD := tests/lkpeer
LKPEER_BIN := $(CURDIR)/.cache/bin/lkpeer

# The other test homeserver: Synapse from the hash-locked requirements in
# tools/synapse, in a venv named after the lock's hash (the same name
# internal/tesths uses when RATHAUS_SYNAPSE_PYTHON is unset). install.sh
# writes synapse-version last, into a venv that is renamed into place only
# when complete, so that file is the stamp. (bin/python cannot be the
# target: make follows its symlink to the system Python's old mtime.)
SYNAPSE_DIR    := tools/synapse
SYNAPSE_LOCK   := $(SYNAPSE_DIR)/requirements.txt
SYNAPSE_HASH   := $(shell sha256sum $(SYNAPSE_LOCK) | cut -c1-16)
SYNAPSE_VENV   := $(CURDIR)/.cache/synapse-$(SYNAPSE_HASH)
SYNAPSE_PYTHON := $(SYNAPSE_VENV)/bin/python
SYNAPSE_STAMP  := $(SYNAPSE_VENV)/synapse-version

# The linter, built from its own pinned module in the same way.
GOLANGCI_MOD := tools/golangci-lint
GOLANGCI_BIN := $(CURDIR)/.cache/bin/golangci-lint
GOLANGCI_PKG := github.com/golangci/golangci-lint/v2/cmd/golangci-lint

# internal/testpg runs PostgreSQL 15 from here.
PG_INITDB := /usr/lib/postgresql/15/bin/initdb
SUDO      := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

# internal/browsertest drives Debian's Chromium (never a downloaded browser)
# with the Node scripts in tests/browser. npm ci replaces node_modules/ and so
# removes the stamp with it; a changed lock file makes the stamp stale.
CHROMIUM      := /usr/bin/chromium
BROWSER_DIR   := tests/browser
BROWSER_STAMP := $(BROWSER_DIR)/node_modules/.npm-ci-stamp
NODE_MAJOR    := 20

TEST_TIMEOUT ?= 30m

.DEFAULT_GOAL := build

# bin/* are phony on purpose: go build itself knows what is stale and is
# quick when nothing is.
.PHONY: help run build dendrite livekit lkpeer synapse test vet lint bench-ingest bench-video test-deps browser-deps clean bin/rathaus bin/rathaus-demo

help:
	@echo 'make run       build rathaus, the demo and Dendrite, then run the demo (Ctrl-C stops it); VIDEO=livekit runs the calls on LiveKit'
	@echo 'make build     build bin/rathaus and bin/rathaus-demo'
	@echo 'make dendrite  build $(DENDRITE_BIN) if it is missing or outdated'
	@echo 'make synapse   install the pinned Synapse (tools/synapse) into $(SYNAPSE_VENV) if missing'
	@echo 'make test      install test dependencies, build Dendrite, go vet, make lint and go test ./...'
	@echo 'make test-deps install only what the tests need (PostgreSQL, Chromium, npm packages, Synapse)'
	@echo 'make vet       go vet ./...'
	@echo 'make lint      golangci-lint run ./... (config: .golangci.yml; built from tools/golangci-lint)'
	@echo 'make livekit   build $(LIVEKIT_BIN) (for make bench-video) if it is missing or outdated'
	@echo 'make bench-video   the embedded media server against LiveKit, one run (bench/video; flags in BENCH_ARGS, e.g. BENCH_ARGS="-subscribers 10 -storm 0")'
	@echo 'make bench-ingest  benchmark rathaus against a bare mautrix appservice (bench/ingest; flags in BENCH_ARGS, e.g. BENCH_ARGS="-reps 1 -before main~4"; -h lists them)'
	@echo 'make clean     remove bin/ and .cache/ (not the demo state in .demo/)'

# VIDEO=livekit: calls on LiveKit (built from tools/livekit, ~4 min the
# first time), rathaus as the MatrixRTC authorization service.
run: build dendrite $(if $(filter livekit,$(VIDEO)),livekit)
	./bin/rathaus-demo -rathaus ./bin/rathaus -dendrite $(DENDRITE_BIN) $(if $(filter livekit,$(VIDEO)),-livekit $(LIVEKIT_BIN))

build: bin/rathaus bin/rathaus-demo

bin/rathaus:
	CGO_ENABLED=0 $(GO) build -buildvcs=false -ldflags "$(LDFLAGS)" -o $@ ./cmd/rathaus

bin/rathaus-demo:
	CGO_ENABLED=0 $(GO) build -buildvcs=false -o $@ ./cmd/rathaus-demo

dendrite: $(DENDRITE_BIN)

# Rebuilt when the pin changes. The tools module stands alone: no workspace
# and no GOFLAGS meant for the rathaus module. A temporary name keeps a
# half-written binary from ever being used.
$(DENDRITE_BIN): $(DENDRITE_MOD)/go.mod $(DENDRITE_MOD)/go.sum
	@mkdir -p $(@D)
	cd $(DENDRITE_MOD) && GOWORK=off GOFLAGS=-buildvcs=false $(GO) build -o $@.tmp $(DENDRITE_PKG)
	mv $@.tmp $@

synapse: $(SYNAPSE_STAMP)

# Debian's python3 makes venvs only with python3-venv (ensurepip).
$(SYNAPSE_STAMP): $(SYNAPSE_LOCK)
	@if ! command -v python3 >/dev/null || \
	    { command -v dpkg >/dev/null && ! dpkg -s python3-venv >/dev/null 2>&1; }; then \
		echo 'Installing python3-venv (needed for the Synapse venv)…'; \
		$(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y python3 python3-venv; \
	fi
	sh $(SYNAPSE_DIR)/install.sh $(SYNAPSE_VENV)

# Same pattern as Dendrite: rebuilt when the pin changes.
$(GOLANGCI_BIN): $(GOLANGCI_MOD)/go.mod $(GOLANGCI_MOD)/go.sum
	@mkdir -p $(@D)
	cd $(GOLANGCI_MOD) && GOWORK=off GOFLAGS=-buildvcs=false $(GO) build -o $@.tmp $(GOLANGCI_PKG)
	mv $@.tmp $@

test-deps: browser-deps synapse
	@if [ ! -x $(PG_INITDB) ]; then \
		echo 'Installing PostgreSQL (needed by the store tests)…'; \
		$(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; \
	fi

# Chromium from Debian, then the pinned npm packages. Node itself is not
# installed here: Debian 12 ships Node 18 and playwright-core needs 20.
browser-deps: $(BROWSER_STAMP)
	@if [ ! -x $(CHROMIUM) ]; then \
		echo 'Installing Chromium (needed by the browser tests)…'; \
		$(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	fi

$(BROWSER_STAMP): $(BROWSER_DIR)/package.json $(BROWSER_DIR)/package-lock.json
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= $(NODE_MAJOR) ? 0 : 1)' 2>/dev/null || \
		{ echo 'The browser tests need Node.js $(NODE_MAJOR) or newer with npm (found: '"$$(node --version 2>/dev/null || echo none)"').'; exit 1; }
	cd $(BROWSER_DIR) && npm ci --no-audit --no-fund
	touch $@

vet:
	$(GO) vet ./...

lint: $(GOLANGCI_BIN)
	$(GOLANGCI_BIN) run ./...

TEST_ENV := RATHAUS_DENDRITE_BIN=$(DENDRITE_BIN) RATHAUS_SYNAPSE_PYTHON=$(SYNAPSE_PYTHON) RATHAUS_LIVEKIT_BIN=$(LIVEKIT_BIN) RATHAUS_LKPEER_BIN=$(LKPEER_BIN)

test: test-deps dendrite livekit lkpeer $(GOLANGCI_BIN)
	$(GO) vet ./...
	$(GOLANGCI_BIN) run ./...
	$(TEST_ENV) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) $$($(GO) list ./... | grep -v -e '/cmd/rathaus$$' -e '/video/livekit$$' -e '/video/embedded$$')
	@# video/embedded, video/livekit and cmd/rathaus last, one after the
	@# other: the committee calls (4 Chromium pages publishing, 40 and more
	@# listeners), the climb back after a bandwidth limit and the end-to-end
	@# tests (the real binary, homeservers, Chromium encoding video) measure
	@# how fast calls follow, and on two cores they need the machine to
	@# themselves.
	$(TEST_ENV) $(GO) test -count=1 -p 1 -timeout $(TEST_TIMEOUT) ./video/embedded ./video/livekit ./cmd/rathaus

# Takes long with the defaults (three repetitions of every workload); the
# table goes to stdout, progress to stderr.
livekit: $(LIVEKIT_BIN)

$(LIVEKIT_BIN): $(LIVEKIT_MOD)/go.mod $(LIVEKIT_MOD)/go.sum
	@mkdir -p $(dir $@)
	cd $(LIVEKIT_MOD) && GOWORK=off GOFLAGS=-buildvcs=false $(GO) build -o $@.tmp $(LIVEKIT_PKG)
	mv $@.tmp $@

lkpeer: $(LKPEER_BIN)

$(LKPEER_BIN): $(LKPEER_MOD)/go.mod $(LKPEER_MOD)/go.sum $(wildcard $(LKPEER_MOD)/*.go)
	@mkdir -p $(dir $@)
	cd $(LKPEER_MOD) && GOWORK=off GOFLAGS=-buildvcs=false $(GO) build -o $@.tmp .
	mv $@.tmp $@

bench-video: livekit
	cd bench/video && GOWORK=off $(GO) build -o $(CURDIR)/.cache/bin/bench-video . && $(CURDIR)/.cache/bin/bench-video -livekit $(LIVEKIT_BIN) $(BENCH_ARGS)

bench-ingest: dendrite
	RATHAUS_DENDRITE_BIN=$(DENDRITE_BIN) $(GO) run ./bench/ingest $(BENCH_ARGS)

clean:
	rm -rf bin .cache
