#!/bin/bash
# releasemgr-cluster: starts a replication group of SITES release managers
# on this machine in the foreground, for trying a group out: site K is one
# releasemgr-run with its own configuration (DIR/siteK/releasemgr.conf,
# written on the first start from conf/releasemgr.conf), its data in
# DIR/siteK, HTTP on 127.0.0.1:PORT+K-1 and its replication manager on
# 127.0.0.1:RPORT+K-1. SIGINT or SIGTERM stops every site. A site that
# stops by itself is reported; the others go on, as a group does.
#
# usage: releasemgr-cluster [--port PORT] [--replication-port RPORT]
#                           [--data-dir DIR] [--sites N] [--workers N]
# PORT 8080, RPORT PORT+1000, N 3 (2 to 9) by default.
set -euo pipefail

bin_dir=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$bin_dir")
port=8080
rport=
data_dir=$root/var
sites=3
workers=

die() { echo "releasemgr-cluster: $*" >&2; exit 1; }
number() { case $2 in ''|*[!0-9]*) die "$1 must be a number" ;; esac; }

while [ $# -gt 0 ]; do
	case $1 in
	--port) port=${2:?}; shift 2 ;;
	--replication-port) rport=${2:?}; shift 2 ;;
	--data-dir) data_dir=${2:?}; shift 2 ;;
	--sites) sites=${2:?}; shift 2 ;;
	--workers) workers=${2:?}; shift 2 ;;
	-h|--help) sed -n '2,13p' "$0"; exit 0 ;;
	*) die "unknown option $1 (see --help)" ;;
	esac
done
number --port "$port"
number --sites "$sites"
[ -n "$rport" ] || rport=$((port + 1000))
number --replication-port "$rport"
[ "$sites" -ge 2 ] && [ "$sites" -le 9 ] || die "--sites must be 2 to 9"
for base in "$port" "$rport"; do
	[ "$base" -ge 1 ] && [ $((base + sites - 1)) -le 65535 ] ||
		die "ports $base to $((base + sites - 1)) are not all valid"
done

# Writes site k's configuration, unless it has one: the shipped settings,
# with this site's replication address and the others' as its peers.
configure() {
	local k=$1 file=$data_dir/site$1/releasemgr.conf peers="" j
	[ -e "$file" ] && return 0
	for j in $(seq 1 "$sites"); do
		[ "$j" -eq "$k" ] && continue
		peers="$peers${peers:+, }127.0.0.1:$((rport + j - 1))"
	done
	sed -e "s|^replication_site =.*|replication_site = 127.0.0.1:$((rport + k - 1))|" \
	    -e "s|^replication_peers =.*|replication_peers = $peers|" \
	    "$root/conf/releasemgr.conf" >"$file"
}

pids=()
stop() {
	trap '' INT TERM
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	wait
}
trap 'stop; exit 0' INT TERM

for k in $(seq 1 "$sites"); do
	mkdir -p "$data_dir/site$k"
	configure "$k"
	"$bin_dir/releasemgr-run" --port $((port + k - 1)) \
	    --data-dir "$data_dir/site$k" --config "$data_dir/site$k/releasemgr.conf" \
	    ${workers:+--workers "$workers"} &
	pids+=("$!")
done
echo "releasemgr-cluster: $sites sites on http://127.0.0.1:$port/ to" \
    "http://127.0.0.1:$((port + sites - 1))/ (GET /cluster on any of them)" >&2

# Sites stop on their own only when something is wrong: say which, keep
# the others serving, and stop when none is left.
left=$sites
while [ "$left" -gt 0 ]; do
	status=0
	wait -n "${pids[@]}" || status=$?
	left=$((left - 1))
	echo "releasemgr-cluster: a site stopped (status $status); $left left" >&2
done
