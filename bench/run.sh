#!/usr/bin/env bash
# Entry point of `make bench`: installs wrk and nginx if missing, builds the
# benchmark tools (and keyway), and runs bench/cmd/benchctl pinned to the load
# CPU. Method and knobs: docs/benchmarks.md.
#
#   BENCH_DURATION=10 BENCH_CONNS=32 BENCH_PASSES=3 bench/run.sh
#   BENCH_SKIP_KEYWAY=1 bench/run.sh        # references only (direct, nginx, bare)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PROXY_CPU="${BENCH_PROXY_CPU:-0}"
LOAD_CPU="${BENCH_LOAD_CPU:-1}"
OUT="${BENCH_OUT:-$ROOT/bench/results/latest.json}"

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
	log "FAILED: $*"
	exit 1
}

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root (or sudo) to run: $*"
	fi
}

find_nginx() {
	if command -v nginx 2>/dev/null; then
		return 0
	fi
	if [ -x /usr/sbin/nginx ]; then
		echo /usr/sbin/nginx
		return 0
	fi
	return 1
}

apt_install() {
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

install_tools() {
	local need_wrk=0 need_nginx=0
	command -v wrk >/dev/null 2>&1 || need_wrk=1
	find_nginx >/dev/null || need_nginx=1
	command -v taskset >/dev/null 2>&1 || die "taskset (util-linux) is missing"
	command -v go >/dev/null 2>&1 || die "go is missing"
	if [ "$need_wrk" -eq 0 ] && [ "$need_nginx" -eq 0 ]; then
		return 0
	fi
	command -v apt-get >/dev/null 2>&1 || die "wrk and nginx are required and apt-get is not available"
	log "installing wrk and nginx from Debian"
	as_root apt-get update -qq >/dev/null
	[ "$need_wrk" -eq 0 ] || apt_install wrk
	if [ "$need_nginx" -eq 1 ]; then
		# nginx-light is gone from newer Debian releases; plain nginx does the same here.
		apt_install nginx-light 2>/dev/null || apt_install nginx
	fi
	command -v wrk >/dev/null 2>&1 || die "wrk still missing after install"
	find_nginx >/dev/null || die "nginx still missing after install"
}

check_cpus() {
	local cpu
	for cpu in "$PROXY_CPU" "$LOAD_CPU"; do
		taskset -c "$cpu" true 2>/dev/null ||
			die "cannot pin to CPU $cpu (need 2 usable CPUs; set BENCH_PROXY_CPU / BENCH_LOAD_CPU)"
	done
}

WORK=""
BENCHCTL_PID=""

# cleanup stops benchctl (which stops its children) and, if benchctl could not
# finish that itself, kills the process groups it recorded in $WORK/pids.
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$BENCHCTL_PID" ] && kill -0 "$BENCHCTL_PID" 2>/dev/null; then
		kill -TERM "$BENCHCTL_PID" 2>/dev/null || true
		wait "$BENCHCTL_PID" 2>/dev/null || true
	fi
	if [ -n "$WORK" ] && [ -f "$WORK/pids" ]; then
		local pgid
		while read -r pgid; do
			if [ -n "$pgid" ]; then
				kill -KILL -- "-$pgid" 2>/dev/null || true
			fi
		done <"$WORK/pids"
	fi
	if [ -n "$WORK" ]; then
		if [ "$rc" -ne 0 ] || [ "${BENCH_KEEP_TMP:-0}" = 1 ]; then
			log "logs and configs kept in $WORK"
		else
			rm -rf "$WORK"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

install_tools
check_cpus
NGINX="$(find_nginx)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/keyway-bench.XXXXXX")"
BIN="$WORK/bin"
mkdir -p "$BIN"

log "building bench tools"
go build -o "$BIN/" ./bench/upstream ./bench/bareproxy ./bench/cmd/benchctl

KEYWAY_ARGS=()
SKIP_KEYWAY="${BENCH_SKIP_KEYWAY:-0}"
case "${SKIP_KEYWAY,,}" in
1 | true | yes | on) ;;
*)
	if [ -n "${BENCH_KEYWAY_BIN:-}" ]; then
		[ -x "$BENCH_KEYWAY_BIN" ] || die "BENCH_KEYWAY_BIN=$BENCH_KEYWAY_BIN is not executable"
		KEYWAY_ARGS=(-keyway "$BENCH_KEYWAY_BIN")
	else
		log "building keyway"
		go build -o "$BIN/keyway" ./cmd/keyway ||
			die "building ./cmd/keyway failed (BENCH_SKIP_KEYWAY=1 benchmarks only direct, nginx and bare)"
		KEYWAY_ARGS=(-keyway "$BIN/keyway")
	fi
	;;
esac

# benchctl runs in the background so the traps fire while it works.
GOMAXPROCS=1 taskset -c "$LOAD_CPU" "$BIN/benchctl" \
	-workdir "$WORK" -bindir "$BIN" -out "$OUT" \
	-nginx "$NGINX" -wrk "$(command -v wrk)" -taskset "$(command -v taskset)" \
	"${KEYWAY_ARGS[@]}" &
BENCHCTL_PID=$!
wait "$BENCHCTL_PID"
