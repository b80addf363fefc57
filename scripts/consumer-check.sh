#!/usr/bin/env bash
# Proves that another module can take hmpps in as the README says: it creates
# a throw-away consumer module outside this checkout (in a temporary
# directory), whose go.mod requires hmpps v0.0.0 and replaces it with this
# checkout, puts the README's own Usage program (the block after
# <!-- snippet usage program -->) into its main.go, and then, checking each
# time that the program prints what the README shows after it,
#
#   1. go mod tidy, go build, run the program;
#   2. go mod vendor, go build -mod=vendor, run it again;
#   3. the go.work way: a second consumer with no replace, in a workspace that
#      uses both it and this checkout; go build, run.
#
# Module downloads go through the Go module proxy as usual (GOPROXY); with
# GOFLAGS=-mod=mod and a module cache that holds every dependency (as after
# make test), it needs no network (e.g. GOPROXY=off).
#
# Environment: GO (default go), KEEP=1 keeps the temporary directory.
set -euo pipefail

go="${GO:-go}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tmp="$(mktemp -d)"
if [ "${KEEP:-}" = 1 ]; then
	echo "consumer-check.sh: keeping $tmp" >&2
else
	trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
fi
log() { echo "consumer-check.sh: $*"; }
goflags="${GOFLAGS:-}"
export GOFLAGS="${goflags:+$goflags }-mod=mod"

goversion="$(awk '$1 == "go" { print $2; exit }' "$root/go.mod")"
snippet() { # the README's usage program
	awk '/<!-- snippet usage program -->/ { marked = 1; next }
		marked && /^```go$/ { inside = 1; next }
		inside && /^```$/ { exit }
		inside { print }' "$root/README.md"
}

readme_output() { # what the README says the usage program prints
	awk '/<!-- output usage -->/ { marked = 1; next }
		marked && /^```/ && !inside { inside = 1; next }
		inside && /^```$/ { exit }
		inside { print }' "$root/README.md"
}

# run DIR NAME: runs the binary NAME built in DIR, in DIR, and checks that it
# printed what the README shows.
run() {
	(cd "$1" && "./$2") >"$1/$2.out"
	if ! diff -u "$tmp/want.out" "$1/$2.out" >&2; then
		log "$2 printed something else than the README shows (diff above)"
		return 1
	fi
}

mod="$tmp/shop"
mkdir -p "$mod"
snippet >"$mod/main.go"
readme_output >"$tmp/want.out"
if ! grep -q '^package main$' "$mod/main.go"; then
	log "no usage program in README.md (a go block after <!-- snippet usage program -->)"
	exit 1
fi
cat >"$mod/go.mod" <<GOMOD
module example.com/shop

go $goversion

require hmpps v0.0.0

replace hmpps => $root
GOMOD

log "consumer module in $mod: require hmpps v0.0.0, replace hmpps => $root"
cd "$mod"
log "1. go mod tidy, go build, run"
"$go" mod tidy
"$go" build -o shop .
run "$mod" shop
sed 's/^/    | /' "$mod/shop.out"
modules=$("$go" list -m all | wc -l)
indirect=$(grep -c '// indirect' go.mod || true)
size=$(wc -c <shop)
log "   $modules modules in the build list, $indirect indirect requirements in go.mod, a $((size / 1024 / 1024)) MB binary"
milvus=$("$go" version -m shop | grep -c 'milvus-io' || true)
log "   modules of the Milvus SDK linked into the binary: $milvus"

log "2. go mod vendor, go build -mod=vendor, run"
"$go" mod vendor
GOFLAGS=-mod=vendor "$go" build -o shop-vendored .
run "$mod" shop-vendored
log "   vendor/ holds $(find vendor -name '*.go' | wc -l) Go files of $(grep -c '^# ' vendor/modules.txt) modules"

log "3. go.work: use ./shop2 and the checkout, no replace"
work="$tmp/work"
mkdir -p "$work/shop2"
cp "$mod/main.go" "$work/shop2/"
cat >"$work/shop2/go.mod" <<GOMOD
module example.com/shop2

go $goversion
GOMOD
cd "$work"
# -mod=mod is refused in workspace mode.
GOFLAGS="$goflags" "$go" work init ./shop2 "$root"
cd shop2
GOFLAGS="$goflags" "$go" build -o shop2 .
run "$work/shop2" shop2

log "ok: the README's usage program builds and runs from another module (replace, vendor, go.work)"
