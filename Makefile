# aku — run `make help` for the targets.
SHELL := /bin/bash
# Every go command runs the toolchain go.mod names, found (or, by make deps,
# installed) by scripts/go: a go on PATH if recent enough, else the official
# toolchain in the module cache.
GO ?= scripts/go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
BIN := bin
# Debian packages the build and the tests need: a C compiler and the ODBC
# driver manager and headers (cgo), psqlODBC (the driver that reaches altisim), isql, dnsmasq and
# iproute2 (pods in the end-to-end tests), hyperfine (benchmarks).
APT_PACKAGES := gcc libc6-dev unixodbc-dev unixodbc odbc-postgresql dnsmasq-base iproute2 util-linux hyperfine
FUZZTIME ?= 10s

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z][a-z0-9-]*:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

.PHONY: deps
deps: ## install Debian packages, the Go toolchain go.mod names and the Go modules (idempotent, quick when present)
	@scripts/apt-install $(APT_PACKAGES)
	@scripts/go --install
	@$(GO) mod download

.PHONY: build
build: ## build bin/aku and bin/altisim (-trimpath: no path of the build machine in them)
	@mkdir -p $(BIN)
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/aku ./cmd/aku
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/altisim ./cmd/altisim

.PHONY: kube-deps
kube-deps: ## build the kube tier's control plane (etcd, kube-apiserver, the StatefulSet and EndpointSlice controllers) into the machine's cache: once, 15-30 min cold, seconds warm
	@scripts/kube-build

.PHONY: test
test: deps kube-deps ## install what is needed, then run the whole suite (unit, in-process, ODBC, e2e and its kube tier, short fuzz)
	$(GO) vet ./...
	$(MAKE) --no-print-directory fuzz FUZZTIME=5s
	$(GO) test -count=1 -timeout 15m ./...

.PHONY: test-e2e
test-e2e: deps kube-deps ## run only the end-to-end StatefulSet tests (root)
	$(GO) test -count=1 -timeout 15m -v ./e2e/

.PHONY: test-kube
test-kube: deps kube-deps ## run only the kube tier: the control plane, and the StatefulSet on it with the harness as kubelet (root)
	$(GO) test -count=1 -timeout 15m -v ./e2e/kube/
	$(GO) test -count=1 -timeout 15m -v -run '^TestKube' ./e2e/

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME each (default 10s)
	@for pkg in $$($(GO) list ./...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$t ($(FUZZTIME))"; \
			out=$$($(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg 2>&1) || { echo "$$out" >&2; exit 1; }; \
		done; \
	done

.PHONY: bench
bench: deps build ## run the benchmarks (lifecycle critical path, absent peers, parsing, aku status, aku -i, aku probe startup)
	$(GO) test -run '^$$' -bench . -benchmem -count=1 -skip 'EndDeadline|SlaveRestart' ./...
	@# One run each: an end with a 50 MB gap at grace periods of 5 and 30 s
	@# (AKU_BENCH_LONG=1 adds 120 s), and a slave with 300,000 rows per table
	@# restarted under the original's reset and the Kubernetes-aware end
	@# (target: >= 100x faster)
	$(GO) test -run '^$$' -bench 'EndDeadline|SlaveRestart' -benchtime 1x -count=1 ./podlife/
	@# aku -i as a user runs it, on the 7.3 sample (target: median <= 10 ms) and
	@# on 8,000 replication items, conf/testdata/items8000.conf (target: median <= 20 ms)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	for run in examples/aku.conf.sample:10 conf/testdata/items8000.conf:20; do \
		conf=$${run%:*} target=$${run##*:} && \
		install -m 600 "$$conf" "$$tmp/aku.conf" && \
		POD_NAME=altibase-sts-0 hyperfine -N --warmup 5 --runs 200 --style basic --export-json "$$tmp/hf.json" "$(BIN)/aku -i --config $$tmp/aku.conf" && \
		python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("aku -i median on %s: %.2f ms (target <= %s ms)" % (sys.argv[2], r["median"]*1e3, sys.argv[3]))' "$$tmp/hf.json" "$$conf" "$$target" || exit 1; \
	done
	@# aku probe startup on a pod whose start completed, as the kubelet runs it: no aku.conf,
	@# no connection (target: median <= 10 ms)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	touch "$$tmp/aku_start_completed" && \
	AKU_MARKER_PATH="$$tmp/aku_start_completed" hyperfine -N --warmup 5 --runs 200 --style basic --export-json "$$tmp/hf.json" "$(BIN)/aku probe startup" && \
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("aku probe startup median: %.2f ms (target <= 10 ms)" % (r["median"]*1e3))' "$$tmp/hf.json"

.PHONY: mutations
mutations: ## break rules of the lifecycle one at a time in copies of the tree; the crash suite must catch each
	GO="$(GO)" scripts/mutations.sh

.PHONY: lint
lint: ## gofmt and go vet
	@out=$$("$$($(GO) env GOROOT)/bin/gofmt" -l .) && test -z "$$out" || { echo "gofmt -l: $$out" >&2; exit 1; }
	$(GO) vet ./...

.PHONY: demo
demo: deps build ## run the narrated demo: a 3-pod StatefulSet on simulated Altibase (root)
	$(GO) run ./e2e/cmd/demo

.PHONY: clean
clean: ## remove build output
	rm -rf $(BIN)
