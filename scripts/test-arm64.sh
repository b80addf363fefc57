#!/usr/bin/env bash
# Checks the library on linux/arm64 from any machine: vets every package for
# GOARCH=arm64, cross-compiles the test binaries of the packages whose
# arithmetic differs there (vek has no SIMD on arm64, so the index uses its
# portable kernels) and runs them, natively on an arm64 host and under
# qemu-user (qemu-aarch64-static) elsewhere.
#
#   scripts/test-arm64.sh            vet, build and run; fail if qemu is missing
#                                    and cannot be installed
#   scripts/test-arm64.sh optional   the same, but when qemu cannot be had,
#                                    say so, run what can run and succeed (make test)
#
# On a Debian or Ubuntu host without qemu, the script installs the
# qemu-user-static package with apt-get when it runs as root; otherwise it
# prints the command to run. The Milvus and live Ollama tests are skipped (they
# need servers; make test runs them in their own steps),
# and so is the race detector, which qemu-user does not support.
#
# Environment: GO (default go), ARM64_PACKAGES (default the three below).
set -euo pipefail

mode="${1:-strict}"
go="${GO:-go}"
packages="${ARM64_PACKAGES:-./retrieval/ ./hmpps/ ./internal/tokenize/}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

log() { echo "test-arm64.sh: $*" >&2; }

start=$SECONDS
log "go vet for linux/arm64"
GOOS=linux GOARCH=arm64 "$go" vet ./...

if [ "$("$go" env GOHOSTARCH)" = arm64 ] && [ "$("$go" env GOHOSTOS)" = linux ]; then
	log "arm64 host: running the tests natively"
	# shellcheck disable=SC2086 # packages is a list
	"$go" test -count=1 -skip "Milvus|Live" $packages
	log "done in $((SECONDS - start))s"
	exit 0
fi

bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
log "building the linux/arm64 test binaries"
for pkg in $packages; do
	GOOS=linux GOARCH=arm64 "$go" test -c -o "$bin/$(basename "$pkg").test" "$pkg"
done

qemu=""
find_qemu() {
	qemu="$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)"
}
find_qemu
if [ -z "$qemu" ] && [ "$("$go" env GOHOSTOS)" = linux ] && command -v apt-get >/dev/null; then
	if [ "$(id -u)" = 0 ]; then
		log "installing qemu-user-static with apt-get"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2 && apt-get install -y -qq qemu-user-static >&2 || log "apt-get failed"
		find_qemu
	else
		log "qemu-user-static is not installed and this is not root; install it with:"
		log "    sudo apt-get install qemu-user-static"
	fi
fi
if [ -z "$qemu" ]; then
	msg="no qemu-aarch64 to run the arm64 tests (Debian/Ubuntu: apt-get install qemu-user-static)"
	if [ "$mode" = optional ]; then
		log "SKIPPED running the arm64 tests: $msg; they were vetted and compiled only"
		exit 0
	fi
	log "$msg"
	exit 1
fi

for pkg in $packages; do
	log "running $pkg under $(basename "$qemu")"
	# A test binary runs in its package's directory, as go test runs it,
	# so that it finds its testdata.
	(cd "$pkg" && "$qemu" "$bin/$(basename "$pkg").test" -test.count=1 -test.skip "Milvus|Live")
done
log "done in $((SECONDS - start))s"
