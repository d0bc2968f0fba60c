#!/bin/bash
# releasemgr-run: starts the release manager in the foreground: the FastCGI
# pool (cgi-bin/releasemgr) and nginx in front of it on 127.0.0.1:PORT.
# SIGTERM or SIGINT stops both: nginx first (it finishes what it has in
# flight), then the pool. When either dies, the other is stopped too.
#
# usage: releasemgr-run [--port PORT] [--data-dir DIR] [--workers N]
#                       [--config FILE] [--nginx-include FILE]
# --nginx-include adds FILE's directives to nginx's server block (the
# benchmark's extra locations, say). RELEASEMGR_POOL_WRAPPER, when set, is
# a command the pool runs under (make soak runs it under valgrind);
# RELEASEMGR_NGINX_TEMPLATE, a template of nginx's configuration to use
# instead of conf/nginx.conf (a test runs the snippets in a plain one).
set -euo pipefail

bin_dir=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$bin_dir")
# nginx's templates and the page: in the checkout, or where make install
# put them (PREFIX/share/releasemgr beside PREFIX/sbin)
if [ -d "$root/share/releasemgr" ]; then
	templates=$root/share/releasemgr/conf
	static_root=$root/share/releasemgr/static
else
	templates=$root/conf
	static_root=$root/static
fi
# the defaults, which make install sets to the installed configuration
# and /var/lib/releasemgr
default_config=$root/conf/releasemgr.conf
default_data_dir=$root/var
port=8080
data_dir=$default_data_dir
workers=
config=$default_config
nginx_include=

die() { echo "releasemgr-run: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--port) port=${2:?}; shift 2 ;;
	--data-dir) data_dir=${2:?}; shift 2 ;;
	--workers) workers=${2:?}; shift 2 ;;
	--config) config=${2:?}; shift 2 ;;
	--nginx-include) nginx_include=${2:?}; shift 2 ;;
	-h|--help) sed -n '2,11p' "$0"; exit 0 ;;
	*) die "unknown option $1 (see --help)" ;;
	esac
done
case $port in
''|*[!0-9]*) die "--port must be a number" ;;
esac
[ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "--port must be 1 to 65535"
if [ -n "$nginx_include" ]; then
	[ -r "$nginx_include" ] || die "--nginx-include: cannot read $nginx_include"
	nginx_include=$(cd "$(dirname "$nginx_include")" && pwd)/$(basename "$nginx_include")
fi
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || die "nginx is not installed"
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

# What the launcher needs of the pool's configuration, read and validated
# by the pool itself: the deploy rate limit (nginx's to enforce), the
# user the pool becomes and the socket's group, which nginx's workers join,
# and who may read the metrics (nginx's allow directives).
mkdir -p "$data_dir"
data_dir=$(cd "$data_dir" && pwd)
settings=$("$bin_dir/releasemgr" --config "$config" --data-dir "$data_dir" \
    --print-setting deploy_rate --print-setting deploy_burst \
    --print-setting socket --print-setting user \
    --print-setting socket_group --print-setting metrics_allow) ||
	die "cannot read the settings of $config"
{
	read -r deploy_rate; read -r deploy_burst; read -r socket
	read -r pool_user || true; read -r socket_group || true
	read -r metrics_allow || true
} <<<"$settings"
metrics_allow_lines=
for who in $metrics_allow; do
	metrics_allow_lines="$metrics_allow_lines allow $who;"
done
if [ "$deploy_rate" -eq 0 ]; then
	deploy_key='""'	# nothing is counted: no limit
	deploy_rate=1	# a rate nginx accepts, never applied
else
	deploy_key='$binary_remote_addr'
fi

mkdir -p "$data_dir/run" "$data_dir/log" "$data_dir/nginx"
chmod 711 "$data_dir" "$data_dir/run"
user_line=
if [ "$(id -u)" -eq 0 ]; then
	# nginx's workers and the pool drop root: both must reach the data
	# directory (the socket, the store), and nginx's workers the pages,
	# which a checkout in a private directory hides
	nginx_user=www-data
	id "$nginx_user" >/dev/null 2>&1 || nginx_user=nobody
	# in the socket's group: the socket is open to it alone
	[ -z "$socket_group" ] || getent group "$socket_group" >/dev/null ||
		die "the group $socket_group does not exist; set socket_group" \
		    "in $config to the group of nginx's workers"
	user_line="user $nginx_user${socket_group:+ $socket_group};"
	for who in "$nginx_user" $pool_user; do
		id "$who" >/dev/null 2>&1 || continue
		runuser -u "$who" -- test -x "$data_dir/run" 2>/dev/null ||
			die "$who cannot reach $data_dir (a parent directory is" \
			    "closed to others): choose a data directory outside it" \
			    "(--data-dir, make run DATA_DIR=/var/lib/releasemgr) or" \
			    "let others through the parents (chmod o+x)"
	done
	chown "$nginx_user" "$data_dir/nginx"
	if ! runuser -u "$nginx_user" -- test -r "$static_root/index.html" 2>/dev/null; then
		echo "releasemgr-run: $nginx_user cannot read $static_root; serving a copy" >&2
		rm -rf "$data_dir/static"
		cp -R "$static_root" "$data_dir/static"
		chmod -R a+rX "$data_dir/static"
		static_root=$data_dir/static
	fi
fi
# nginx's own configuration, and the two files a server's nginx includes
# to serve the release manager (conf/nginx-http.conf, conf/nginx-site.conf),
# with their placeholders filled in
fill() {
	sed -e "s|@PORT@|$port|g" -e "s|@SOCKET@|$socket|g" \
	    -e "s|@STATIC_DIR@|$static_root|g" -e "s|@DATA_DIR@|$data_dir|g" \
	    -e "s|@USER@|$user_line|g" \
	    -e "s|@INCLUDE@|${nginx_include:+include $nginx_include;}|g" \
	    -e "s|@DEPLOY_RATE@|$deploy_rate|g" -e "s|@DEPLOY_BURST@|$deploy_burst|g" \
	    -e "s|@DEPLOY_KEY@|$deploy_key|g" \
	    -e "s|@METRICS_ALLOW@|$metrics_allow_lines|g" "$1" >"$2"
}
fill "$templates/nginx-http.conf" "$data_dir/run/nginx-http.conf"
fill "$templates/nginx-site.conf" "$data_dir/run/nginx-site.conf"
fill "${RELEASEMGR_NGINX_TEMPLATE:-$templates/nginx.conf}" "$data_dir/run/nginx.conf"
"$nginx_bin" -t -q -e "$data_dir/log/nginx-error.log" -p "$data_dir/nginx/" \
    -c "$data_dir/run/nginx.conf" || die "the nginx configuration is invalid"

pool_pid= nginx_pid=
stop() {
	trap '' INT TERM
	if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
		kill -QUIT "$nginx_pid" 2>/dev/null || true
		wait "$nginx_pid" 2>/dev/null || true
	fi
	if [ -n "$pool_pid" ] && kill -0 "$pool_pid" 2>/dev/null; then
		kill -TERM "$pool_pid" 2>/dev/null || true
		wait "$pool_pid" 2>/dev/null || true
	fi
}
trap 'stop; exit 0' INT TERM

# shellcheck disable=SC2086 # the wrapper is a command and its options
${RELEASEMGR_POOL_WRAPPER:-} "$bin_dir/releasemgr" --config "$config" \
    --data-dir "$data_dir" ${workers:+--workers "$workers"} &
pool_pid=$!
# up to 30 s by bash's own clock for the socket and the pid file: a count
# of iterations would end early if a command of the loop failed at once
deadline=$((SECONDS + 30))
until [ -S "$socket" ] && [ -s "$data_dir/run/releasemgr.pid" ]; do
	kill -0 "$pool_pid" 2>/dev/null || { wait "$pool_pid" || true; die "the pool failed to start"; }
	[ "$SECONDS" -lt "$deadline" ] || { stop; die "the pool did not start in 30 s"; }
	sleep 0.1
done

"$nginx_bin" -e "$data_dir/log/nginx-error.log" -p "$data_dir/nginx/" \
    -c "$data_dir/run/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
echo "releasemgr-run: serving http://127.0.0.1:$port/ (data in $data_dir)" >&2

# Whichever stops first, the other follows.
status=0
wait -n "$pool_pid" "$nginx_pid" || status=$?
echo "releasemgr-run: $(kill -0 "$pool_pid" 2>/dev/null && echo nginx || echo the pool) stopped; stopping the rest" >&2
stop
exit "$status"
