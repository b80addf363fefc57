#!/usr/bin/env bash
# Runs a real Milvus standalone server for the tests, with no container engine:
# the "milvus" package on PyPI ships the Milvus 2.3 server binary (embedded
# etcd, local storage, RocksMQ) and a small launcher, installed here into a
# project-local virtual environment.
#
#   scripts/milvus.sh install            create the virtual environment (idempotent)
#   scripts/milvus.sh start DIR [PORT]   start a server keeping its data in DIR (reused
#                                        if present, so a stopped server can be restarted
#                                        with its data); prints MILVUS_ADDR=host:port
#   scripts/milvus.sh stop DIR           stop the server started on DIR
#   scripts/milvus.sh env DIR            print "export MILVUS_ADDR=..." for a running server
#   scripts/milvus.sh run CMD [ARG...]   run CMD with MILVUS_ADDR set: when it is not set
#                                        already, start a server on a fresh data directory
#                                        first and stop and remove it afterwards, also
#                                        when CMD fails or is interrupted
#
# Environment: PYTHON (default python3), MILVUS_HOME (where the virtual
# environment and run directories live; default .tmp/milvus in the repository),
# MILVUS_START_TIMEOUT in seconds (default 300).
set -euo pipefail

# The server version is pinned: the tests and the documented figures are for it.
MILVUS_VERSION=2.3.5

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
home="${MILVUS_HOME:-$root/.tmp/milvus}"
venv="$home/venv"
# bincache holds the server binaries the launcher unpacks on its first start;
# later data directories get hard links to them instead of a fresh 250 MB copy.
bincache="$home/bin-$MILVUS_VERSION"
python="${PYTHON:-python3}"
start_timeout="${MILVUS_START_TIMEOUT:-300}"

log() { echo "milvus.sh: $*" >&2; }
die() { log "$*"; exit 1; }

install() {
	if [ -x "$venv/bin/milvus-server" ] &&
		"$venv/bin/python" -c "import milvus, sys; sys.exit(milvus.__version__ != '$MILVUS_VERSION')" 2>/dev/null; then
		return 0
	fi
	command -v "$python" >/dev/null || die "$python not found: install Python 3, or set MILVUS_ADDR to a running Milvus"
	log "installing milvus==$MILVUS_VERSION into $venv"
	rm -rf "$venv"
	mkdir -p "$home"
	"$python" -m venv "$venv"
	"$venv/bin/pip" install --quiet --disable-pip-version-check "milvus==$MILVUS_VERSION"
}

# proxy_port prints the gRPC port the launcher wrote into DIR's config; it
# moves on to the next free port when the one asked for is taken.
proxy_port() {
	awk '/^proxy:/ { p = 1; next } p && /^[^ #]/ { p = 0 } p && /^  port:/ { print $2; exit }' "$1/configs/milvus.yaml"
}

# launcher runs the package's milvus-server command with one change: its
# check that a port is free accepts a port whose old connections linger in
# TIME_WAIT, as the server's own listeners do. Without it, a server restarted
# within a minute of its stop would silently move to the next port.
launcher='import socket, milvus

def try_bind_port(self, port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        return sock
    except OSError:
        sock.close()
        return None

milvus.MilvusServerConfig.try_bind_port = try_bind_port
milvus.main()'

start() {
	local dir="${1:?usage: start DIR [PORT]}" port="${2:-19530}"
	install
	mkdir -p "$dir"
	dir="$(cd "$dir" && pwd)"
	if [ -f "$dir/server.pid" ] && kill -0 "$(cat "$dir/server.pid")" 2>/dev/null; then
		die "a server is already running on $dir (pid $(cat "$dir/server.pid"))"
	fi
	if [ -d "$bincache" ] && [ ! -d "$dir/bin" ]; then
		cp -al "$bincache" "$dir/bin" 2>/dev/null || cp -a "$bincache" "$dir/bin"
	fi
	# The launcher moves every port but the embedded etcd's to a free one;
	# etcd's come from this file, written once so that a restart on the same
	# data finds its member at the same address.
	if [ ! -f "$dir/embed-etcd.yaml" ]; then
		local ports client_port peer_port
		ports="$("$venv/bin/python" -c 'import socket
socks = [socket.socket() for _ in range(2)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')"
		read -r client_port peer_port <<<"$ports"
		cat >"$dir/embed-etcd.yaml" <<-EOF
			listen-client-urls: http://127.0.0.1:$client_port
			advertise-client-urls: http://127.0.0.1:$client_port
			listen-peer-urls: http://127.0.0.1:$peer_port
			initial-advertise-peer-urls: http://127.0.0.1:$peer_port
			initial-cluster: default=http://127.0.0.1:$peer_port
		EOF
	fi
	local etcd_port
	etcd_port="$(sed -n 's|^listen-client-urls: http://127.0.0.1:||p' "$dir/embed-etcd.yaml")"
	: >"$dir/server.log"
	local begin=$SECONDS
	# setsid gives the launcher and the server their own process group, so
	# that stop can end exactly them and nothing else.
	PYTHONUNBUFFERED=1 ETCD_CONFIG_PATH="$dir/embed-etcd.yaml" setsid "$venv/bin/python" -c "$launcher" \
		--data "$dir" --proxy-port "$port" --etcd-port "$etcd_port" >"$dir/server.log" 2>&1 </dev/null &
	local pid=$!
	echo "$pid" >"$dir/server.pid"
	# The launcher prints its banner once the server's health check answers OK.
	until grep -q '^ Process:' "$dir/server.log"; do
		if ! kill -0 "$pid" 2>/dev/null || grep -q -e 'timeout' -e 'already stopped' "$dir/server.log"; then
			tail -n 20 "$dir/server.log" >&2 || true
			tail -n 20 "$dir/logs/milvus-stderr.log" >&2 2>/dev/null || true
			stop "$dir" || true
			die "Milvus did not start; logs are in $dir/logs"
		fi
		if ((SECONDS - begin > start_timeout)); then
			stop "$dir" || true
			die "Milvus did not become healthy within ${start_timeout}s; logs are in $dir/logs"
		fi
		sleep 0.5
	done
	if [ ! -d "$bincache" ]; then
		mkdir -p "$bincache.tmp.$$" && cp -al "$dir/bin/." "$bincache.tmp.$$/" 2>/dev/null &&
			mv "$bincache.tmp.$$" "$bincache" 2>/dev/null || rm -rf "$bincache.tmp.$$"
	fi
	port="$(proxy_port "$dir")"
	echo "127.0.0.1:$port" >"$dir/address"
	log "Milvus $MILVUS_VERSION ready at 127.0.0.1:$port after $((SECONDS - begin))s (data in $dir)"
	echo "MILVUS_ADDR=127.0.0.1:$port"
}

stop() {
	local dir="${1:?usage: stop DIR}"
	[ -f "$dir/server.pid" ] || return 0
	local pid
	pid="$(cat "$dir/server.pid")"
	# SIGINT makes the launcher stop the server; SIGTERM would leave it running.
	kill -INT "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 -- "-$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 -- "-$pid" 2>/dev/null; then
		log "Milvus (process group $pid) did not stop on SIGINT; killing it"
		kill -KILL -- "-$pid" 2>/dev/null || true
		sleep 0.5
	fi
	rm -f "$dir/server.pid"
}

run() {
	[ $# -gt 0 ] || die "usage: run CMD [ARG...]"
	if [ -n "${MILVUS_ADDR:-}" ]; then
		log "using the Milvus at MILVUS_ADDR=$MILVUS_ADDR"
		exec "$@"
	fi
	mkdir -p "$home/runs"
	local dir
	dir="$(mktemp -d "$home/runs/run.XXXXXX")"
	# The trap stops the server whatever happens to CMD.
	trap 'stop "'"$dir"'"; rm -rf "'"$dir"'"' EXIT
	trap 'exit 130' INT TERM
	local line
	line="$(start "$dir")" || exit 1
	export "${line?}"
	# CMD runs in the background so that a signal reaches the traps at once
	# (bash holds them while a foreground command runs); it is passed on.
	local child status=0
	"$@" <&0 &
	child=$!
	trap 'kill -TERM "'"$child"'" 2>/dev/null; exit 130' INT TERM
	wait "$child" || status=$?
	return "$status"
}

cmd="${1:-}"
shift || true
case "$cmd" in
install) install ;;
start) start "$@" ;;
stop) stop "$@" ;;
env) echo "export MILVUS_ADDR=$(cat "${1:?usage: env DIR}/address")" ;;
run) run "$@" ;;
*) die "usage: $0 install | start DIR [PORT] | stop DIR | env DIR | run CMD [ARG...]" ;;
esac
