# The two commands of the README: `make demo` and `make test`.
GO ?= go

.PHONY: demo test vet fmt-check bench fuzz

## demo: run the quickstart (offline, in-process) and show two users' rankings.
demo:
	$(GO) run ./examples/quickstart

## test: everything CI checks: formatting, vet, and the race-enabled test suite.
test: fmt-check vet
	$(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## bench: the benchmarks of the index, stage one, summaries and reranking.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## fuzz: a short run of every fuzz target (FUZZTIME each).
FUZZTIME ?= 15s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done
