# hero_codescalers — build, run, test, bench.
SHELL   := /bin/bash
export PATH := $(PATH):/usr/local/go/bin:$(HOME)/go/bin
GO      ?= go
BIN     := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/threefoldtech/hero_codescalers/core/api.Version=$(VERSION)
# The built-in plugins are one multi-call binary, plugins/$(MULTI) (issue
# 15: ten binaries of ~21 MB were ~210 MB), and each plugin a hard link to
# it by its own name with its manifest beside it; the binary lists the
# names it serves.
MULTI   := hero_codescalers_plugins
# A plugin whose plugins/NAME is still a package main (not yet registered in
# the multi-call binary) is built on its own, as every plugin was before.
STANDALONE := $(filter-out $(MULTI),$(notdir $(patsubst %/main.go,%,$(shell grep -l '^package main$$' plugins/*/main.go))))
# PLUGIN_VERSION is stamped into every plugin (its manifest's version, by
# which the host ranks the plugins of a concern): the release in VERSION,
# with the commit as build metadata, which ordering ignores.
PLUGIN_VERSION ?= $(shell cat VERSION 2>/dev/null || echo 0.0.0)+$(shell git rev-parse --short HEAD 2>/dev/null || echo local)

.PHONY: all deps build plugins plugin-links pysessions install run test unit integration bench proto clean deb deb-bin deb-pkg

all: build

deps:
	@bash scripts/deps.sh

## build: bin/hero_codescalers (the CLI: no host code, no cgo, so it starts
## fast), bin/hero_codescalers_server (the host; serve, plugin check and
## setup driver of the CLI hand over to it) and every plugin under
## bin/plugins/ with its manifest (one binary, hard-linked by each
## plugin's name: see plugins/$(MULTI)). The server is built with nomsgpack:
## gin's MessagePack codec, which the dashboard never uses, is ~9 MB of
## the ~17 MB gin adds (make bench measures it).
SERVER_TAGS ?= nomsgpack
build:
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/hero_codescalers ./cli/hero_codescalers
	$(GO) build -tags '$(SERVER_TAGS)' -ldflags '$(LDFLAGS)' -o $(BIN)/hero_codescalers_server ./cli/hero_codescalers_server
	@$(MAKE) --no-print-directory plugins

plugins:
	@mkdir -p $(BIN)/plugins
	$(GO) build -ldflags '-X main.version=$(PLUGIN_VERSION)' -o $(BIN)/plugins/$(MULTI) ./plugins/$(MULTI)
	@$(MAKE) --no-print-directory plugin-links PLUGIN_DIR=$(BIN)/plugins
	@for p in $(STANDALONE); do \
	  $(GO) build -ldflags '-X main.version=$(PLUGIN_VERSION)' -o $(BIN)/plugins/$$p ./plugins/$$p && \
	  $(BIN)/plugins/$$p describe > $(BIN)/plugins/$$p.manifest.json || exit 1; \
	done

# plugin-links: each built-in plugin's hard link to $(MULTI) in
# $(PLUGIN_DIR), with its manifest (what the plugin describes)
plugin-links:
	@for p in $$($(PLUGIN_DIR)/$(MULTI) list); do \
	  ln -f $(PLUGIN_DIR)/$(MULTI) $(PLUGIN_DIR)/$$p && \
	  $(PLUGIN_DIR)/$$p describe > $(PLUGIN_DIR)/$$p.manifest.json || exit 1; \
	done

## pysessions: the Python example plugin (examples/pysessions), one
## executable zipapp with its manifest, into bin/examples/; not installed
## by default: copy both into a plugin dir to use it
pysessions:
	@sh examples/pysessions/build.sh $(BIN)/examples

## install: copy the binaries to ~/hero/bin (the two side by side: the CLI
## looks for hero_codescalers_server beside itself first), the plugins'
## binary once with its hard links
install: build
	@mkdir -p $(HOME)/hero/bin/plugins
	install -m 0755 $(BIN)/hero_codescalers $(BIN)/hero_codescalers_server $(HOME)/hero/bin/
	install -m 0755 $(BIN)/plugins/$(MULTI) $(HOME)/hero/bin/plugins/
	@$(MAKE) --no-print-directory plugin-links PLUGIN_DIR=$(HOME)/hero/bin/plugins
	@for p in $(STANDALONE); do install -m 0755 $(BIN)/plugins/$$p $(HOME)/hero/bin/plugins/ && \
	  install -m 0644 $(BIN)/plugins/$$p.manifest.json $(HOME)/hero/bin/plugins/; done

## run: install what is missing, build, and run instance 0 in the foreground
run: deps build
	$(BIN)/hero_codescalers_server serve

## test: everything CI runs (root runs the integration tests too)
test: deps build unit integration

unit:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

# The random-kill test's rounds in make test (each a 200-user batch killed
# and recovered, 10-40 s); run alone it does the issue's 20:
# make test HC_KILL_ROUNDS=20, or go test -run TestBatchRandomKill.
HC_KILL_ROUNDS ?= 5

integration:
	@if [ "$$(id -u)" = 0 ]; then \
	  HC_KILL_ROUNDS=$(HC_KILL_ROUNDS) $(GO) test -count=1 -tags integration -timeout 40m ./integration/...; \
	else echo "integration: skipped, needs root (CI runs it as root)"; fi

## deb: the Debian package $(BIN)/hero-codescalers_VERSION_amd64.deb, built
## by nfpm (a Go module pinned in tools/nfpm/go.mod, so nothing else moves):
## the CLI in /usr/bin, the server and the plugins (stripped, with their
## manifests; nfpm packs each hard link of the plugins' binary as a copy,
## internal/debhardlink packs them as links again) in
## /usr/lib/hero_codescalers, the unit, the default config (a conffile),
## the man page and the bash, zsh and fish completions made by the CLI
## itself; lintian checks it when installed (make deps does).
DEB_VERSION ?= $(shell echo "0.1.0+git$$(git rev-list --count HEAD 2>/dev/null || echo 0).$$(git rev-parse --short HEAD 2>/dev/null || echo dev)")
DEB_DATE    ?= $(shell git log -1 --format=%cD 2>/dev/null || date -R)
STAGE       ?= $(BIN)/deb-stage
LINT        ?= 1
STRIP       := -s -w $(LDFLAGS)
deb: deb-bin deb-pkg

## deb-bin: the stripped binaries in $(STAGE); deb-pkg packs a $(STAGE)
## however it was filled (the integration test stages the binaries it
## already built, stripped with strip(1)).
deb-bin:
	@rm -rf $(STAGE) && mkdir -p $(STAGE)/lib/plugins
	CGO_ENABLED=0 $(GO) build -ldflags '$(STRIP)' -o $(STAGE)/hero_codescalers ./cli/hero_codescalers
	$(GO) build -tags '$(SERVER_TAGS)' -ldflags '$(STRIP)' -o $(STAGE)/lib/hero_codescalers_server ./cli/hero_codescalers_server
	$(GO) build -ldflags '-s -w -X main.version=$(PLUGIN_VERSION)' -o $(STAGE)/lib/plugins/$(MULTI) ./plugins/$(MULTI)
	@$(MAKE) --no-print-directory plugin-links PLUGIN_DIR=$(STAGE)/lib/plugins
	@for p in $(STANDALONE); do \
	  $(GO) build -ldflags '-s -w -X main.version=$(PLUGIN_VERSION)' -o $(STAGE)/lib/plugins/$$p ./plugins/$$p && \
	  $(STAGE)/lib/plugins/$$p describe > $(STAGE)/lib/plugins/$$p.manifest.json || exit 1; \
	done

deb-pkg:
	$(STAGE)/hero_codescalers man | gzip -9n > $(STAGE)/hero_codescalers.1.gz
	@for sh in bash zsh fish; do $(STAGE)/hero_codescalers completion $$sh > $(STAGE)/completion.$$sh || exit 1; done
	@printf 'hero-codescalers (%s) unstable; urgency=medium\n\n  * Built from commit %s.\n\n -- hero_codescalers maintainers <hero_codescalers@threefold.tech>  %s\n' \
	  '$(DEB_VERSION)' "$$(git rev-parse HEAD 2>/dev/null || echo unknown)" '$(DEB_DATE)' | gzip -9n > $(STAGE)/changelog.gz
	@sed -e 's#$${ROOT}#$(CURDIR)#g; s#$${STAGE}#$(abspath $(STAGE))#g; s#$${DEB_VERSION}#$(DEB_VERSION)#g' \
	  packaging/deb/nfpm.yaml > $(STAGE)/nfpm.yaml
	@mkdir -p $(BIN)
	cd tools/nfpm && $(GO) tool nfpm pkg --config $(abspath $(STAGE))/nfpm.yaml --packager deb --target $(abspath $(BIN))/
	$(GO) run ./internal/debhardlink $(BIN)/hero-codescalers_$(DEB_VERSION)_amd64.deb
	@if [ "$(LINT)" = 0 ]; then exit 0; fi; \
	if command -v lintian >/dev/null; then lintian --fail-on error $(BIN)/hero-codescalers_$(DEB_VERSION)_amd64.deb; \
	else echo "deb: lintian not installed (make deps installs it); not checked"; fi

## bench: the performance table, each number next to its baseline of the same run
bench: build
	@bash scripts/bench.sh

## proto: regenerate the sdk's gRPC code
proto:
	@bash sdk/proto/gen.sh

clean:
	rm -rf $(BIN)
