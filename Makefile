# shir: make test (what CI runs), make build, make bench, make release-check.
SHELL := /bin/bash
GO ?= go
PKG := github.com/shirhq/shir
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.0.0-dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X $(PKG)/internal/buildinfo.Version=$(VERSION) \
	-X $(PKG)/internal/buildinfo.Commit=$(COMMIT) -X $(PKG)/internal/buildinfo.Date=$(DATE)
PLATFORMS := linux/amd64 linux/arm64 windows/amd64 windows/arm64

# Wine helpers: ../shared/wine when it is next to the checkout, else the copy in .ci/wine.
WINE_DIR ?= $(abspath $(if $(wildcard ../shared/wine/setup.sh),../shared/wine,.ci/wine))
export WINEPREFIX ?= $(HOME)/.wine-shir

.PHONY: test fmt-check vet test-linux test-windows wine-setup build bench release-check release-snapshot clean

test: fmt-check vet test-linux test-windows

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt: not formatted:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	GOOS=windows GOARCH=amd64 $(GO) vet ./...
	GOOS=darwin $(GO) build ./...

test-linux: wine-setup
	SHIR_WINE_EXEC=$(WINE_DIR)/go-wine-exec $(GO) test -race -count=1 ./...

# Windows test binaries, built on Linux and run under Wine.
test-windows: wine-setup
	GOFLAGS=-overlay=$$($(WINE_DIR)/go-overlay.sh) GOOS=windows GOARCH=amd64 \
		$(GO) test -count=1 -exec $(WINE_DIR)/go-wine-exec ./...

wine-setup:
	$(WINE_DIR)/setup.sh

build:
	@for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		echo "build dist/shir_$${os}_$${arch}/shir$$ext"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "$(LDFLAGS)" \
			-o dist/shir_$${os}_$${arch}/shir$$ext ./cmd/shir || exit 1; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	bench/binsize.sh

GORELEASER ?= $(shell $(GO) env GOPATH)/bin/goreleaser
release-check:
	test -x $(GORELEASER) || $(GO) install github.com/goreleaser/goreleaser/v2@v2.15.1
	$(GORELEASER) check

# release-snapshot: goreleaser (binaries, archives, checksums, .deb/.rpm), then
# the MSI, Authenticode signatures and the signed update feed in dist/feed.
# Without SIGN_CERT/SIGN_KEY and RELEASE_KEY it makes throw-away test keys in
# dist/snapshot-keys (docs/RELEASING.md has the real-release variables).
SHIR_HOST := dist/shir-host
RELEASE_KEY ?=
SIGN_CERT ?=
SIGN_KEY ?=
release-snapshot: release-check
	$(GORELEASER) release --snapshot --clean
	bash packaging/release-post.sh "$(GO)" "$(RELEASE_KEY)" "$(SIGN_CERT)" "$(SIGN_KEY)"

clean:
	rm -rf dist
