#!/usr/bin/env bash
# stack.sh start|stop|status — the whole cnova stack, private, on 127.0.0.1.
#
# PostgreSQL, RabbitMQ, cnova-api (FastCGI pool), cnova-conductor,
# cnova-scheduler, one cnova-compute per host (each with a private libvirtd
# driving QEMU, or on libvirt's in-process test driver), and nginx in
# front; every
# file under one run folder, every port its own. `start` is idempotent (a
# running component is left alone); `stop` stops exactly what `start`
# started, by PID file, never by process name.
#
# Knobs (environment, with defaults):
#   CNOVA_RUN            $REPO/run       run folder (conf, logs, pids, data)
#   CNOVA_BIN            $REPO/build     folder of cnova-api ... cnova-manage
#   CNOVA_PORT           8774            nginx HTTP port
#   CNOVA_METADATA_PORT  8775            nginx port of the metadata service
#   CNOVA_METRICS_PORT   9774            nginx port of GET /metrics (Prometheus);
#                                        CNOVA_PORT + 2 when CNOVA_PORT is set
#   CNOVA_PG_PORT        15432           PostgreSQL port
#   CNOVA_RMQ_PORT       15672           RabbitMQ AMQP port
#   CNOVA_RMQ_DIST_PORT  25672           RabbitMQ Erlang distribution port
#   CNOVA_RMQ_NODE       cnova@localhost RabbitMQ node name
#   CNOVA_RMQ_NODES      2               independent RabbitMQ nodes; node N
#                                        (N > 1) is <name>-N on both ports + N-1
#   CNOVA_COMPUTE_HOSTS  "compute1"      one cnova-compute per name
#   CNOVA_VIRT           qemu            qemu: real guests (KVM when /dev/kvm
#                                        exists, else TCG) through a private
#                                        libvirtd per host; test: simulated
#                                        hosts (libvirt's test driver). Where
#                                        QEMU cannot run: says why, uses test
#   CNOVA_HOST_SIZE      "1000 800000 600000"  test hosts' vCPUs, MiB, GiB
#                                        (Nova's fake driver; "0 0 0": the
#                                        test driver's own 16 CPUs, 3 GiB, /)
#   CNOVA_GLANCE_URL     http://127.0.0.1:$CNOVA_PORT/image  where computes
#                                        read image bytes ([glance] api_servers)
#   CNOVA_API_WORKERS    0               FastCGI workers (0 = 2 x cores)
#   CNOVA_MAX_BODY       1048576         largest request body (bytes)
#   CNOVA_CLIENT_TIMEOUT 60              seconds nginx waits on a client between
#                                        two reads or writes (header, body,
#                                        answer) before closing: slow clients
#   CNOVA_IMAGE_SIZE_CAP 1099511627776   largest image upload (bytes, [image] image_size_cap)
#   CNOVA_HELLO_SOCKET   ""              bench: serve /hello from this socket
#   CNOVA_RESIZE_SAME_HOST  true with one compute host, else false
#                                        [DEFAULT] allow_resize_to_same_host
#                                        (as DevStack sets it: one host can
#                                        resize only onto itself)
#   CNOVA_WAIT           60              seconds to wait for each component
#   CNOVA_CONF_EXTRA     ""              more options for every config file:
#                                        "section<TAB>key<TAB>value" lines
#   CNOVA_AUTH           noauth2         keystone: a private Keystone too
#                                        (scripts/keystone.sh; its knobs
#                                        CNOVA_KEYSTONE_PORT 15000,
#                                        CNOVA_KEYSTONE_PASSWORD secret) and
#                                        the API validates its tokens
#   CNOVA_DASHBOARD      0               1 (with CNOVA_AUTH=keystone): Horizon
#                                        too, on CNOVA_DASHBOARD_PORT (8780)
#                                        (scripts/dashboard.sh)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

RUN=${CNOVA_RUN:-$REPO/run}
BIN=${CNOVA_BIN:-$REPO/build}
PORT=${CNOVA_PORT:-8774}
METADATA_PORT=${CNOVA_METADATA_PORT:-8775}
METRICS_PORT=${CNOVA_METRICS_PORT:-$([ "$PORT" = 8774 ] && echo 9774 || echo $((PORT + 2)))}
PG_PORT=${CNOVA_PG_PORT:-15432}
RMQ_PORT=${CNOVA_RMQ_PORT:-15672}
RMQ_DIST_PORT=${CNOVA_RMQ_DIST_PORT:-25672}
RMQ_NODE=${CNOVA_RMQ_NODE:-cnova@localhost}
RMQ_NODES=${CNOVA_RMQ_NODES:-2}
COMPUTE_HOSTS=${CNOVA_COMPUTE_HOSTS:-compute1}
API_WORKERS=${CNOVA_API_WORKERS:-0}
MAX_BODY=${CNOVA_MAX_BODY:-1048576}
CLIENT_TIMEOUT=${CNOVA_CLIENT_TIMEOUT:-60}
IMAGE_SIZE_CAP=${CNOVA_IMAGE_SIZE_CAP:-1099511627776}
HELLO_SOCKET=${CNOVA_HELLO_SOCKET:-}
WAIT=${CNOVA_WAIT:-60}
VIRT=${CNOVA_VIRT:-}
HOST_SIZE=${CNOVA_HOST_SIZE:-}
RESIZE_SAME_HOST=${CNOVA_RESIZE_SAME_HOST:-$(w=($COMPUTE_HOSTS) && [ ${#w[@]} -eq 1 ] && echo true || echo false)}
GLANCE_URL=${CNOVA_GLANCE_URL:-http://127.0.0.1:$PORT/image}
CONF_EXTRA=${CNOVA_CONF_EXTRA:-}
AUTH=${CNOVA_AUTH:-}
DASHBOARD=${CNOVA_DASHBOARD:-0}

PG_BIN=/usr/lib/postgresql/15/bin
RMQ_BIN=/usr/lib/rabbitmq/bin
NGINX=${NGINX:-/usr/sbin/nginx}

# Absolute paths: the processes we start do not run in this directory.
case $RUN in /*) ;; *) RUN=$PWD/$RUN ;; esac
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
case $HELLO_SOCKET in /* | '') ;; *) HELLO_SOCKET=$PWD/$HELLO_SOCKET ;; esac

CONF=$RUN/cnova.conf
# A running stack keeps the hypervisor it was started with when `start`
# runs again without the knobs (a test restarting a compute host).
[ -n "$VIRT" ] || VIRT=$(cat "$RUN/virt" 2>/dev/null || echo qemu)
[ -n "$HOST_SIZE" ] || HOST_SIZE=$(cat "$RUN/host_size" 2>/dev/null || echo 1000 800000 600000)
[ -n "$AUTH" ] || AUTH=$(cat "$RUN/auth" 2>/dev/null || echo noauth2)
case $AUTH in noauth2 | keystone) ;; *) echo "stack.sh: CNOVA_AUTH=$AUTH: expected noauth2 or keystone" >&2; exit 1 ;; esac
[ "$DASHBOARD" != 1 ] || [ "$AUTH" = keystone ] ||
    { echo "stack.sh: CNOVA_DASHBOARD=1 needs CNOVA_AUTH=keystone (Horizon logs in through Keystone)" >&2; exit 1; }
SOCKET=$RUN/cnova-api.sock
LOG=$RUN/log
PIDS=$RUN/pids

IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1

say() { printf '%s\n' "$*"; }
die() { printf 'stack.sh: %s\n' "$*" >&2; exit 1; }
warn() { printf 'stack.sh: warning: %s\n' "$*" >&2; }

# as USER CMD...: run CMD as USER (root only; otherwise as ourselves), from /
# so that a cwd the user cannot read does not matter.
as() {
    local user=$1; shift
    if [ $IS_ROOT -eq 1 ]; then
        # AS_NICE: a niceness below 0, which only root can give
        (cd / && ${AS_NICE:+nice -n "$AS_NICE"} runuser -u "$user" -- "$@")
    else
        (cd / && "$@")
    fi
}

# can USER reach DIR (search permission on every parent)?
can_reach() {
    [ $IS_ROOT -eq 1 ] || return 0
    runuser -u "$1" -- test -x "$2" 2>/dev/null
}

# private_dir NAME USER: $RUN/NAME, or when USER cannot reach the run folder
# (e.g. a clone under /root, mode 700) a folder under /var/tmp recorded in
# $RUN/NAME.dir so that later runs find it again. Created, owned by USER.
private_dir() {
    local name=$1 user=$2 dir
    if [ -f "$RUN/$name.dir" ]; then
        dir=$(cat "$RUN/$name.dir")
        if [ -d "$dir" ]; then printf '%s\n' "$dir"; return; fi
    fi
    if can_reach "$user" "$RUN"; then
        dir=$RUN/$name
        mkdir -p "$dir"
    else
        dir=$(mktemp -d "/var/tmp/cnova-$name.XXXXXX")
        printf '%s\n' "$dir" >"$RUN/$name.dir"
    fi
    [ $IS_ROOT -eq 1 ] && chown "$user:" "$dir"
    printf '%s\n' "$dir"
}

# existing_dir NAME: where NAME's private folder is, without creating it.
existing_dir() {
    local name=$1
    if [ -f "$RUN/$name.dir" ]; then cat "$RUN/$name.dir"; else printf '%s\n' "$RUN/$name"; fi
}

# pid_runs, alive, stop_pid, port_open, listened: shared with dashboard.sh
# shellcheck source=scripts/lib.sh
. "$REPO/scripts/lib.sh"

tail_log() {
    if [ -f "$1" ]; then tail -n 20 "$1" | sed 's/^/    /' >&2; fi
}


# keystone_start, keystone_stop, keystone_running, keystone_conf_lines, keystone_token
# shellcheck source=scripts/keystone.sh
. "$REPO/scripts/keystone.sh"

# ---------------------------------------------------------------- PostgreSQL

pg_user() { if [ $IS_ROOT -eq 1 ]; then echo postgres; else id -un; fi; }

pg_running() {
    local base
    base=$(existing_dir pg)
    [ -f "$base/data/PG_VERSION" ] || return 1
    as "$(pg_user)" "$PG_BIN/pg_ctl" -D "$base/data" status >/dev/null 2>&1
}

pg_start() {
    local user base
    user=$(pg_user)
    [ -x "$PG_BIN/pg_ctl" ] || die "PostgreSQL 15 not found in $PG_BIN (run scripts/deps.sh)"
    base=$(private_dir pg "$user")
    if pg_running; then
        say "postgresql: already running on 127.0.0.1:$PG_PORT ($base/data)"
    else
        if [ ! -f "$base/data/PG_VERSION" ]; then
            as "$user" "$PG_BIN/initdb" -D "$base/data" -A trust -U cnova -E UTF8 \
                >"$LOG/postgresql-initdb.log" 2>&1 ||
                { tail_log "$LOG/postgresql-initdb.log"; die "initdb failed (see $LOG/postgresql-initdb.log)"; }
        fi
        if ! as "$user" "$PG_BIN/pg_ctl" -D "$base/data" -l "$base/postgresql.log" -w -t "$WAIT" \
            -o "-k $base -p $PG_PORT -c listen_addresses=127.0.0.1" start \
            </dev/null >>"$LOG/postgresql-ctl.log" 2>&1; then
            tail_log "$base/postgresql.log"
            die "PostgreSQL did not start on 127.0.0.1:$PG_PORT (see $base/postgresql.log)"
        fi
        ln -sfn "$base/postgresql.log" "$LOG/postgresql.log"
        say "postgresql: started on 127.0.0.1:$PG_PORT ($base/data)"
    fi
    local have
    have=$(psql -h 127.0.0.1 -p "$PG_PORT" -U cnova -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'cnova'") ||
        die "cannot connect to PostgreSQL on 127.0.0.1:$PG_PORT as cnova"
    if [ "$have" != 1 ]; then
        psql -h 127.0.0.1 -p "$PG_PORT" -U cnova -d postgres -qc 'CREATE DATABASE cnova' ||
            die "cannot create database cnova"
        say "postgresql: created database cnova"
    fi
}

pg_stop() {
    local base
    base=$(existing_dir pg)
    if pg_running; then
        as "$(pg_user)" "$PG_BIN/pg_ctl" -D "$base/data" -m fast -w -t "$WAIT" stop \
            </dev/null >>"$LOG/postgresql-ctl.log" 2>&1 || warn "pg_ctl stop failed"
        say "stopped postgresql"
    fi
}

# ------------------------------------------------------------------ RabbitMQ

rmq_user() { if [ $IS_ROOT -eq 1 ]; then echo rabbitmq; else id -un; fi; }

# The brokers are independent nodes, not a cluster (see lib/rpc.c): every
# process publishes to the first that answers and consumes from all, so a
# broker killed stalls nothing while it restarts. rmq_sel N makes node N
# (1..RMQ_NODES) the one the rmq_* functions below act on.
rmq_sel() {
    RN=$1
    R_PORT=$((RMQ_PORT + RN - 1))
    R_DIST=$((RMQ_DIST_PORT + RN - 1))
    R_DIR=rmq
    R_NODE=$RMQ_NODE
    if [ "$RN" -gt 1 ]; then
        R_DIR=rmq$RN
        R_NODE=${RMQ_NODE%@*}-$RN@${RMQ_NODE#*@}
    fi
}
rmq_ports() { seq -s, "$RMQ_PORT" $((RMQ_PORT + RMQ_NODES - 1)); }

# rmq CMD...: run CMD as the rabbitmq user with the selected node's environment.
# With RMQ_TIMEOUT=N set, CMD is killed after N seconds.
rmq() {
    local base t=() conf=()
    [ -n "${RMQ_APPS:-}" ] || rmq_plugins_dir
    base=$(existing_dir "$R_DIR")
    [ -n "${RMQ_TIMEOUT:-}" ] && t=(timeout "$RMQ_TIMEOUT")
    # a rabbitmq.conf costs a second of start-up (cuttlefish): only when it says something
    [ -s "$base/rabbitmq.conf" ] && conf=(RABBITMQ_CONFIG_FILE="$base/rabbitmq")
    as "$(rmq_user)" "${t[@]}" env \
        HOME="$base" \
        RABBITMQ_NODENAME="$R_NODE" \
        RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
        RABBITMQ_NODE_PORT="$R_PORT" \
        RABBITMQ_DIST_PORT="$R_DIST" \
        RABBITMQ_MNESIA_BASE="$base/mnesia" \
        RABBITMQ_LOG_BASE="$base/log" \
        RABBITMQ_PID_FILE="$base/pid" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$base/enabled_plugins" \
        RABBITMQ_PLUGINS_DIR="$RMQ_APPS" \
        "${conf[@]}" \
        ERL_EPMD_ADDRESS=127.0.0.1 \
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} +sbwt none +sbwtdcpu none +sbwtdio none" \
        "$@"
}

# The broker's applications and what they need, linked into a folder of
# their own: RabbitMQ looks through every application of its plugins folder
# for feature flags and upgrade steps at each start, and Debian's holds 70
# (seconds of a restart on a busy machine; we enable no plugin). Sets
# RMQ_APPS, once per run of this script.
rmq_plugins_dir() {
    local all dir app dep todo
    all=$(ls -d /usr/lib/rabbitmq/lib/rabbitmq_server-*/plugins 2>/dev/null | tail -n 1)
    dir=$(private_dir rmq-apps "$(rmq_user)")
    if [ ! -f "$dir/.done" ] && [ -n "$all" ]; then
        todo=rabbit
        while [ -n "$todo" ]; do
            set -- $todo; app=$1; shift; todo=$*
            [ -e "$dir/$app" ] && continue
            local d
            d=$(ls -d "$all/$app"-[0-9]* 2>/dev/null | head -n 1)
            [ -n "$d" ] || continue # an OTP application
            ln -s "$d" "$dir/$app"
            for dep in $(tr -d ' \t\n' <"$d/ebin/$app.app" |
                sed -n 's/.*{applications,\[\([^]]*\)\]}.*/\1/p' | tr ',' ' '); do
                todo="$todo $dep"
            done
        done
        touch "$dir/.done"
    fi
    if [ -f "$dir/.done" ]; then RMQ_APPS=$dir; else RMQ_APPS=$all; fi
}

rmq_running() { alive "$(existing_dir "$R_DIR")/pid" beam; }

# The port first: each rabbitmqctl is an Erlang VM of its own, which would
# slow the broker's own boot if run every second until it is up.
rmq_ready() {
    port_open "$R_PORT" && RMQ_TIMEOUT=20 rmq "$RMQ_BIN/rabbitmqctl" status >/dev/null 2>&1
}

# Starts the selected node, detached, unless it runs; rmq_wait waits for it.
rmq_launch() {
    local user base
    user=$(rmq_user)
    [ -x "$RMQ_BIN/rabbitmq-server" ] || die "RabbitMQ not found in $RMQ_BIN (run scripts/deps.sh)"
    base=$(private_dir "$R_DIR" "$user")
    if rmq_running; then
        say "rabbitmq: already running as $R_NODE on 127.0.0.1:$R_PORT"
        return 1
    fi
    mkdir -p "$base/mnesia" "$base/log"
    [ -f "$base/enabled_plugins" ] || echo '[].' >"$base/enabled_plugins"
    [ -s "$base/rabbitmq.conf" ] || rm -f "$base/rabbitmq.conf"
    [ $IS_ROOT -eq 1 ] && chown -R "$user:" "$base"
    # epmd is shared by every Erlang node and outlives them: remember whether
    # we are the ones starting it, so that stop removes it only then.
    if ! epmd -names >/dev/null 2>&1; then
        touch "$RUN/epmd.ours"
    fi
    # ahead of a busy stack: a broker restarted under a boot storm is what
    # every worker waits on
    AS_NICE=-10 rmq "$RMQ_BIN/rabbitmq-server" -detached </dev/null >>"$LOG/rabbitmq-server.log" 2>&1 ||
        { tail_log "$LOG/rabbitmq-server.log"; die "rabbitmq-server -detached failed"; }
    ln -sfn "$base/log" "$LOG/$R_DIR"
}

rmq_wait() {
    local deadline=$((SECONDS + WAIT))
    while [ $SECONDS -lt $deadline ]; do
        if rmq_ready; then
            say "rabbitmq: started as $R_NODE on 127.0.0.1:$R_PORT"
            return
        fi
        sleep 0.3
    done
    tail_log "$(existing_dir "$R_DIR")/log/$R_NODE.log"
    die "RabbitMQ node $R_NODE not ready on 127.0.0.1:$R_PORT after ${WAIT} s (logs: $(existing_dir "$R_DIR")/log)"
}

# Every node: launched together, then waited for.
rmq_start() {
    local n p started=''
    # a node whose port another process holds dies before it logs anything:
    # say so before launching any
    for n in $(seq "$RMQ_NODES"); do
        rmq_sel "$n"
        rmq_running && continue
        for p in "$R_PORT" "$R_DIST"; do
            ! listened "$p" || die "rabbitmq $R_NODE: 127.0.0.1:$p is taken by another process (CNOVA_RMQ_PORT, CNOVA_RMQ_DIST_PORT; node N uses both + N-1)"
            # RabbitMQ refuses a distribution port that any socket holds,
            # a connection's closed end in TIME-WAIT included
            ! ephemeral "$p" || say "rabbitmq $R_NODE: warning: port $p is in the kernel's ephemeral range ($(tr '\t' - </proc/sys/net/ipv4/ip_local_port_range)): a client's connection may hold it and stop the node from starting; pick CNOVA_RMQ_PORT / CNOVA_RMQ_DIST_PORT below it"
        done
    done
    for n in $(seq "$RMQ_NODES"); do
        rmq_sel "$n"
        rmq_launch && started="$started $n"
    done
    for n in $started; do
        rmq_sel "$n"
        rmq_wait
    done
}

rmq_stop() {
    local base n
    for n in $(seq "$RMQ_NODES"); do
        rmq_sel "$n"
        base=$(existing_dir "$R_DIR")
        if rmq_running; then
            if ! RMQ_TIMEOUT=60 rmq "$RMQ_BIN/rabbitmqctl" stop "$base/pid" \
                </dev/null >>"$LOG/rabbitmq-server.log" 2>&1; then
                warn "rabbitmqctl stop failed; stopping the node by its PID"
                stop_pid "$base/pid" rabbitmq beam
            fi
            say "stopped rabbitmq $R_NODE"
        fi
    done
    if [ -f "$RUN/epmd.ours" ]; then
        # refused by epmd while any other node is still registered
        case $(epmd -kill 2>&1) in *Killed*) say "stopped epmd" ;; esac
        rm -f "$RUN/epmd.ours"
    fi
}

# ---------------------------------------------------------------- cnova.conf

# The run folder's metadata proxy secret (made once, kept across restarts).
metadata_secret() {
    local f=$RUN/metadata-secret
    [ -s "$f" ] || (umask 077 && od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$f")
    cat "$f"
}

# write_conf OUT [HOST [EXTRA]]: etc/cnova.conf.sample with this stack's
# ports and paths (every "key = value" line of a section is replaced when
# overridden); EXTRA: more "section<TAB>key<TAB>value" lines.
write_conf() {
    local out=$1 host=${2:-$(hostname)} extra=${3:-}
    # The database over PostgreSQL's unix socket (in its private folder):
    # a round trip costs less than over TCP loopback. TCP when the socket's
    # path would be too long for sun_path.
    local pghost
    pghost=$(existing_dir pg)
    [ ${#pghost} -le 90 ] || pghost=127.0.0.1
    local o="api	socket	$SOCKET
api	workers	$API_WORKERS
api	max_body_size	$MAX_BODY
api	schemas	$REPO/api/request-schemas.json
oslo_policy	policy_file	$RUN/policy.yaml
database	connection	host=$pghost port=$PG_PORT user=cnova dbname=cnova
database	migrations	$REPO/sql
rabbit	host	127.0.0.1
rabbit	port	$(rmq_ports)
image	data_path	$RUN/images
compute	volumes_path	$RUN/volumes
image	image_size_cap	$IMAGE_SIZE_CAP
glance	api_servers	$GLANCE_URL"
    o="$o
DEFAULT	host	$host
DEFAULT	allow_resize_to_same_host	$RESIZE_SAME_HOST
neutron	metadata_proxy_shared_secret	$(metadata_secret)"
    [ "$AUTH" = keystone ] && o="$o
$(keystone_conf_lines)"
    [ -n "$extra" ] && o="$o
$extra"
    [ -n "$CONF_EXTRA" ] && o="$o
$CONF_EXTRA"
    OVERRIDES=$o awk '
        BEGIN {
            n = split(ENVIRON["OVERRIDES"], lines, "\n")
            for (i = 1; i <= n; i++) { split(lines[i], f, "\t"); val[f[1] "." f[2]] = f[3] }
        }
        /^[ \t]*\[[^]]+\][ \t]*$/ { sec = $0; gsub(/[][ \t]/, "", sec) }
        /^[ \t]*[A-Za-z_][A-Za-z0-9_]*[ \t]*=/ {
            key = $0; sub(/[ \t]*=.*/, "", key); gsub(/[ \t]/, "", key)
            if ((sec "." key) in val) { print key " = " val[sec "." key]; seen[sec "." key] = 1; next }
        }
        { print }
        END { for (k in val) if (!(k in seen)) { print "stack.sh: no " k " in the sample" > "/dev/stderr"; bad = 1 }
              exit bad }
    ' "$REPO/etc/cnova.conf.sample" >"$out.tmp"
    mv "$out.tmp" "$out"
}

# ------------------------------------------------------------------ libvirt
#
# One private libvirtd per compute host (each host its own hypervisor, as
# each test:/// connection is). libvirtd's QEMU driver keeps its state in
# fixed system paths (/etc/libvirt, /run/libvirt, /var/lib/libvirt, ...), so
# it runs in a mount namespace of its own where those paths are folders of
# $RUN/libvirt/<host>: its config, socket, domains, managed saves and QEMU
# logs stay there, and another libvirtd on this machine is never touched.
# QEMU writes its own logs (stdio_handler = "file"), so no virtlogd.

lv_dir() { echo "$RUN/libvirt/$1"; }
lv_uri() { echo "qemu+unix:///system?socket=$(lv_dir "$1")/run/libvirt-sock"; }
lv_running() { alive "$(lv_dir "$1")/libvirtd.pid" libvirtd; }

# qemu_missing: why QEMU guests cannot run here ("" when they can).
qemu_missing() {
    local arch
    arch=$(uname -m)
    [ $IS_ROOT -eq 1 ] || { echo "not root (a private libvirtd needs a mount namespace)"; return; }
    command -v "qemu-system-$arch" >/dev/null 2>&1 ||
        { echo "no qemu-system-$arch (scripts/deps.sh installs qemu-system-x86)"; return; }
    command -v libvirtd >/dev/null 2>&1 ||
        { echo "no libvirtd (scripts/deps.sh installs libvirt-daemon-system)"; return; }
    command -v qemu-img >/dev/null 2>&1 || { echo "no qemu-img (qemu-utils)"; return; }
    command -v unshare >/dev/null 2>&1 || { echo "no unshare (util-linux)"; return; }
    unshare -m --propagation private true 2>/dev/null ||
        { echo "cannot make a mount namespace (unshare -m) for a private libvirtd"; return; }
}

# lv_start HOST: its libvirtd, ready to answer on its socket; 1 (LV_WHY
# set) on failure.
lv_start() {
    local host=$1 dir uri deadline
    dir=$(lv_dir "$host")
    uri=$(lv_uri "$host")
    if lv_running "$host"; then
        say "libvirtd-$host: already running (pid $(cat "$dir/libvirtd.pid"))"
        return 0
    fi
    mkdir -p "$dir/etc" "$dir/run" "$dir/lib" "$dir/cache" "$dir/log"
    rm -f "$dir/run/libvirt-sock"
    cat >"$dir/etc/libvirtd.conf" <<EOF
# written by stack.sh: seen by this libvirtd as /etc/libvirt/libvirtd.conf
unix_sock_dir = "/run/libvirt"
unix_sock_group = "root"
unix_sock_rw_perms = "0770"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
    cat >"$dir/etc/qemu.conf" <<EOF
# written by stack.sh: QEMU runs as root on files under the run folder,
# writes its own logs (no virtlogd), and no security driver relabels them
stdio_handler = "file"
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
EOF
    # the folder as an argument ($1): no path is ever parsed as shell text
    # shellcheck disable=SC2016
    setsid nohup unshare -m --propagation private sh -c '
        set -e
        for m in etc:/etc/libvirt run:/run/libvirt lib:/var/lib/libvirt \
                 cache:/var/cache/libvirt log:/var/log/libvirt; do
            mkdir -p "${m#*:}"
            mount --bind "$1/${m%%:*}" "${m#*:}"
        done
        exec libvirtd --pid-file /run/libvirt/libvirtd.pid' sh "$dir" \
        </dev/null >>"$LOG/libvirtd-$host.log" 2>&1 &
    echo $! >"$dir/libvirtd.pid"
    deadline=$((SECONDS + WAIT))
    while [ $SECONDS -lt $deadline ]; do
        if ! lv_running "$host"; then
            tail_log "$LOG/libvirtd-$host.log"
            tail_log "$dir/log/libvirtd.log"
            LV_WHY="libvirtd exited (see $dir/log/libvirtd.log)"
            return 1
        fi
        if [ -S "$dir/run/libvirt-sock" ] && virsh -q -c "$uri" version >/dev/null 2>&1; then
            ln -sfn "$dir/log/libvirtd.log" "$LOG/libvirtd-$host-daemon.log"
            say "libvirtd-$host: started (pid $(cat "$dir/libvirtd.pid"), $uri)"
            return 0
        fi
        sleep 0.3
    done
    LV_WHY="libvirtd did not answer on $uri within ${WAIT} s"
    return 1
}

# lv_stop HOST: its running guests destroyed (their definitions and files
# stay: the next start finds them shut off), then its libvirtd.
lv_stop() {
    local host=$1 dir uri name
    dir=$(lv_dir "$host")
    uri=$(lv_uri "$host")
    lv_running "$host" || { rm -f "$dir/libvirtd.pid"; return 0; }
    for name in $(virsh -q -c "$uri" list --name 2>/dev/null); do
        virsh -q -c "$uri" destroy "$name" >/dev/null 2>&1 && say "destroyed guest $name"
    done
    stop_pid "$dir/libvirtd.pid" "libvirtd-$host" libvirtd
}

# guest_images: scripts/guest-image.sh's tiny guest in the image service,
# once, as Nova boots a kernel directly: cnova-tiny-kernel (aki),
# cnova-tiny-ramdisk (ari) and cnova-tiny (ami, naming both). Public images
# of the admin project; a failure is said, not fatal (the stack runs).
GUEST_KERNEL_ID=c0a1e5e1-0000-4000-8000-00000000a1c1
GUEST_RAMDISK_ID=c0a1e5e1-0000-4000-8000-00000000a1c2
GUEST_IMAGE_ID=c0a1e5e1-0000-4000-8000-00000000a1c3
ADMIN_TOKEN=admin:admin   # noauth2's; Keystone's admin token in keystone mode
guest_images() {
    local api=http://127.0.0.1:$PORT/image/v2/images dir=$RUN/guest raw
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $ADMIN_TOKEN" \
        "$api/$GUEST_IMAGE_ID")" = 200 ] && return 0
    if ! "$REPO/scripts/guest-image.sh" "$dir" >>"$LOG/guest-image.log" 2>&1; then
        warn "the tiny guest image was not built (see $LOG/guest-image.log)"
        return 0
    fi
    raw=$dir/disk.raw
    [ -e "$raw" ] || truncate -s 64K "$raw"
    if guest_image "$GUEST_KERNEL_ID" cnova-tiny-kernel aki "$dir/vmlinuz" '' &&
        guest_image "$GUEST_RAMDISK_ID" cnova-tiny-ramdisk ari "$dir/initrd.img" '' &&
        guest_image "$GUEST_IMAGE_ID" cnova-tiny ami "$raw" ", \"kernel_id\": \"$GUEST_KERNEL_ID\",
            \"ramdisk_id\": \"$GUEST_RAMDISK_ID\", \"os_command_line\": \"console=ttyS0 panic=-1 quiet\""; then
        say "images: cnova-tiny ($GUEST_IMAGE_ID) with its kernel and ramdisk"
    else
        warn "the tiny guest's images were not registered (see $LOG/guest-image.log)"
    fi
}

# guest_image ID NAME FORMAT FILE EXTRA_JSON: one image, created unless it
# exists, its data uploaded unless it is active.
guest_image() {
    local api=http://127.0.0.1:$PORT/image/v2/images st
    st=$(curl -s -H "X-Auth-Token: $ADMIN_TOKEN" "$api/$1" | grep -o '"status": *"[a-z]*"' || true)
    case $st in *active*) return 0 ;; esac
    [ -n "$st" ] || curl -sf -o /dev/null -H "X-Auth-Token: $ADMIN_TOKEN" \
        -H 'Content-Type: application/json' "$api" -d \
        "{\"id\": \"$1\", \"name\": \"$2\", \"disk_format\": \"$3\", \"container_format\": \"$3\",
          \"visibility\": \"public\"$5}" >>"$LOG/guest-image.log" 2>&1 || return 1
    curl -sf -o /dev/null -X PUT -H "X-Auth-Token: $ADMIN_TOKEN" \
        -H 'Content-Type: application/octet-stream' --data-binary "@$4" "$api/$1/file" \
        >>"$LOG/guest-image.log" 2>&1
}

# net_stop: the guest networks the compute hosts laid out (workers/compute/
# hostnet.c): their dnsmasq and metadata proxy (by pid file, checked to be
# ours), veth pair, namespace and bridge, and the hosts' firewall tables.
# Which guest had which port stays
# recorded, so that starting a guest again plugs it again.
net_stop() {
    local d id f pid
    for d in "$RUN"/net/dhcp/*/; do
        [ -d "$d" ] || continue
        d=${d%/}; id=$(basename "$d")
        for f in "$d/pid" "$d/metadata-proxy.pid"; do
            pid=$(cat "$f" 2>/dev/null) || continue
            tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$d/" && kill "$pid" 2>/dev/null
        done
        ip link del "tap${id:0:11}" 2>/dev/null || true
        ip netns del "qdhcp-$id" 2>/dev/null || true
        ip link del "brq${id:0:11}" 2>/dev/null || true
        rm -rf "$d"
        say "stopped guest network $id"
    done
    # the hosts' security group tables (workers/compute/firewall.c)
    for f in "$RUN"/net/firewall/*.nft; do
        [ -f "$f" ] || continue
        nft delete table bridge "$(basename "$f" .nft)" 2>/dev/null || true
        rm -f "$f"
    done
}

# choose_virt: VIRT=qemu with a running libvirtd per host, or VIRT=test
# (asked for, or QEMU cannot run here: said, with the reason).
choose_virt() {
    local h why=''
    LV_WHY=''
    case $VIRT in
    test) return ;;
    qemu) ;;
    *) die "CNOVA_VIRT=$VIRT: expected qemu or test" ;;
    esac
    why=$(qemu_missing)
    if [ -z "$why" ]; then
        for h in $COMPUTE_HOSTS; do
            lv_start "$h" || { why=$LV_WHY; break; }
        done
    fi
    if [ -n "$why" ]; then
        warn "QEMU cannot run here: $why; using libvirt's test driver (simulated hosts) instead"
        for h in $COMPUTE_HOSTS; do lv_stop "$h"; done
        VIRT=test
    fi
}

# compute_conf_extra HOST: the compute host's own config lines.
compute_conf_extra() {
    local host=$1 vcpus mem disk kind=qemu
    if [ "$VIRT" = qemu ]; then
        [ -e /dev/kvm ] && kind=kvm
        printf 'compute\tlibvirt_uri\t%s\nlibvirt\tvirt_type\t%s\nDEFAULT\tinstances_path\t%s\n' \
            "$(lv_uri "$host")" "$kind" "$RUN/instances/$host"
        # one network state for the machine's hosts; guests' metadata
        # through the proxy in each network's namespace
        printf 'compute\tnetwork_state_path\t%s\nneutron\tmetadata_proxy_socket\t%s\n' \
            "$RUN/net" "$RUN/metadata.sock"
    else
        read -r vcpus mem disk <<<"$HOST_SIZE"
        printf 'compute\tlibvirt_uri\ttest:///default\ncompute\tvcpus\t%s\n' "${vcpus:-0}"
        printf 'compute\tmemory_mb\t%s\ncompute\tlocal_gb\t%s\n' "${mem:-0}" "${disk:-0}"
        printf 'DEFAULT\tinstances_path\t%s\n' "$RUN/instances/$host"
    fi
}

# --------------------------------------------------------- cnova processes

# start_proc NAME PIDNAME CONF: nohup'd, in its own session, logs in $LOG.
start_proc() {
    local name=$1 pidname=$2 conf=$3 exe=$BIN/$1
    local pidf=$PIDS/$pidname.pid
    if alive "$pidf" "$name"; then
        say "$pidname: already running (pid $(cat "$pidf"))"
        return 0
    fi
    if [ ! -x "$exe" ]; then
        warn "$exe not built yet (make): $pidname not started"
        MISSING="$MISSING $pidname"
        return 0
    fi
    setsid nohup "$exe" --config "$conf" </dev/null >>"$LOG/$pidname.log" 2>&1 &
    echo $! >"$pidf"
    say "$pidname: started (pid $!, log $LOG/$pidname.log)"
}

# ------------------------------------------------------------------- nginx

nginx_pidf() { echo "$RUN/nginx/nginx.pid"; }
nginx_running() { alive "$(nginx_pidf)" nginx; }

nginx_conf() {
    local out=$RUN/nginx/nginx.conf user_line='' workers
    [ $IS_ROOT -eq 1 ] && user_line='user root;   # workers must write to the API socket'
    workers=$(nproc 2>/dev/null || echo 2)
    local hello_cmd='/@HELLO_BEGIN@/,/@HELLO_END@/d'
    [ -n "$HELLO_SOCKET" ] && hello_cmd='/@HELLO_BEGIN@/d;/@HELLO_END@/d'
    sed -e "$hello_cmd" \
        -e "s|@USER_LINE@|$user_line|g" \
        -e "s|@WORKERS@|$workers|g" \
        -e "s|@RUN@|$RUN|g" \
        -e "s|@PORT@|$PORT|g" \
        -e "s|@METADATA_PORT@|$METADATA_PORT|g" \
        -e "s|@METRICS_PORT@|$METRICS_PORT|g" \
        -e "s|@SOCKET@|$SOCKET|g" \
        -e "s|@OPENAPI@|$REPO/api/openapi.json|g" \
        -e "s|@HELLO_SOCKET@|$HELLO_SOCKET|g" \
        -e "s|@MAX_BODY@|$MAX_BODY|g" \
        -e "s|@CLIENT_TIMEOUT@|${CLIENT_TIMEOUT}s|g" \
        -e "s|@IMAGE_MAX_BODY@|$IMAGE_SIZE_CAP|g" \
        "$REPO/nginx/nginx.conf.in" >"$out.new"
    if grep -n '@[A-Z_]*@' "$out.new" >&2; then die "unsubstituted marker in $out.new"; fi
    if ! cmp -s "$out.new" "$out"; then
        "$NGINX" -t -q -p "$RUN/nginx/" -c "$out.new" -e "$LOG/nginx-error.log" ||
            die "nginx rejects $out.new"
        mv "$out.new" "$out"
        return 0 # changed
    fi
    rm -f "$out.new"
    return 1
}

# nginx_orphans: pids of nginx workers still listening on our ports after
# their master died (killed with -9, its workers serve on and hold the
# ports, so a new nginx could not bind them).
nginx_orphans() {
    ss -Hltnp "( sport = :$PORT or sport = :$METADATA_PORT or sport = :$METRICS_PORT )" 2>/dev/null |
        grep -o '"nginx",pid=[0-9]*' | sed 's/.*pid=//' | sort -u || true
}

nginx_start() {
    mkdir -p "$RUN/nginx/tmp"
    if ! nginx_running; then
        local pid i left
        left=$(nginx_orphans)
        if [ -n "$left" ]; then
            warn "nginx workers left by a dead master (pids $(echo $left)): stopping them"
            for pid in $left; do kill -QUIT "$pid" 2>/dev/null || true; done
            for ((i = 0; i < 50; i++)); do
                [ -z "$(nginx_orphans)" ] && break
                sleep 0.1
            done
            for pid in $(nginx_orphans); do kill -KILL "$pid" 2>/dev/null || true; done
        fi
        rm -f "$RUN/metadata.sock"
    fi
    local changed=0
    nginx_conf && changed=1
    if nginx_running; then
        if [ $changed -eq 1 ]; then
            "$NGINX" -p "$RUN/nginx/" -c "$RUN/nginx/nginx.conf" -e "$LOG/nginx-error.log" -s reload
            say "nginx: configuration changed, reloaded"
        else
            say "nginx: already running on 127.0.0.1:$PORT"
        fi
        return
    fi
    "$NGINX" -p "$RUN/nginx/" -c "$RUN/nginx/nginx.conf" -e "$LOG/nginx-error.log" \
        </dev/null >>"$LOG/nginx.out" 2>&1 ||
        { tail_log "$LOG/nginx.out"; tail_log "$LOG/nginx-error.log"; die "nginx did not start on 127.0.0.1:$PORT"; }
    say "nginx: started on 127.0.0.1:$PORT"
}

nginx_stop() {
    local pidf pid i
    pidf=$(nginx_pidf)
    nginx_running || return 0
    pid=$(cat "$pidf")
    "$NGINX" -p "$RUN/nginx/" -c "$RUN/nginx/nginx.conf" -e "$LOG/nginx-error.log" -s quit \
        2>/dev/null || kill -QUIT "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        pid_runs "$pid" || break
        sleep 0.1
    done
    pid_runs "$pid" && { warn "nginx still running: TERM"; kill -TERM "$pid" 2>/dev/null || true; sleep 1; }
    say "stopped nginx"
}

# dashboard start|stop|status: Horizon on this stack (scripts/dashboard.sh)
dashboard() {
    CNOVA_RUN=$RUN CNOVA_KEYSTONE_PORT=$KS_PORT CNOVA_WAIT=$WAIT "$REPO/scripts/dashboard.sh" "$@"
}

# ------------------------------------------------------------------ verbs

cmd_start() {
    mkdir -p "$RUN" "$LOG" "$PIDS" "$RUN/nginx" "$RUN/images"
    RUN=$(cd "$RUN" && pwd)
    MISSING=''

    pg_start
    [ "$AUTH" = keystone ] && keystone_launch
    echo "$AUTH" >"$RUN/auth"
    rmq_start
    [ "$AUTH" = keystone ] && keystone_ready

    write_conf "$CONF"
    choose_virt
    local h
    for h in $COMPUTE_HOSTS; do
        mkdir -p "$RUN/instances/$h"
        write_conf "$RUN/compute-$h.conf" "$h" "$(compute_conf_extra "$h")"
    done
    echo "$VIRT" >"$RUN/virt"
    echo "$HOST_SIZE" >"$RUN/host_size"

    if [ -x "$BIN/cnova-manage" ]; then
        "$BIN/cnova-manage" --config "$CONF" db sync >>"$LOG/cnova-manage.log" 2>&1 ||
            { tail_log "$LOG/cnova-manage.log"; die "cnova-manage db sync failed (see $LOG/cnova-manage.log)"; }
        say "database: in sync"
    else
        warn "$BIN/cnova-manage not built yet (make): database not migrated"
        MISSING="$MISSING cnova-manage"
    fi

    start_proc cnova-api cnova-api "$CONF"
    start_proc cnova-conductor cnova-conductor "$CONF"
    start_proc cnova-scheduler cnova-scheduler "$CONF"
    for h in $COMPUTE_HOSTS; do
        start_proc cnova-compute "cnova-compute-$h" "$RUN/compute-$h.conf"
    done

    nginx_start

    if [ -n "$MISSING" ]; then
        die "not built:$MISSING — run make, then $0 start again"
    fi

    # Ready when the API socket exists and / answers 200 or 300 through nginx.
    local deadline=$((SECONDS + WAIT)) code=000
    while [ $SECONDS -lt $deadline ]; do
        alive "$PIDS/cnova-api.pid" cnova-api ||
            { tail_log "$LOG/cnova-api.log"; die "cnova-api exited (see $LOG/cnova-api.log)"; }
        if [ -S "$SOCKET" ]; then
            code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$PORT/" || true)
            case $code in 200 | 300) break ;; esac
        fi
        sleep 0.2
    done
    case $code in
    200 | 300) ;;
    *)
        tail_log "$LOG/cnova-api.log"
        die "the API did not answer GET http://127.0.0.1:$PORT/ (last status $code)"
        ;;
    esac

    local HV="libvirt's test driver: simulated hosts"
    if [ "$VIRT" = qemu ]; then
        HV="QEMU ($( [ -e /dev/kvm ] && echo KVM || echo TCG)): guests under $RUN/instances"
        if [ "$AUTH" = keystone ]; then
            ADMIN_TOKEN=$(keystone_token admin admin) || die "Keystone gave no admin token"
        fi
        guest_images
    fi
    if [ "$DASHBOARD" = 1 ]; then dashboard start; fi
    if [ "$AUTH" = keystone ]; then
        cat <<EOF
cnova is up: http://127.0.0.1:$PORT/v2.1 ($HV), Keystone on $KS_URL/v3
  export OS_CLIENT_CONFIG_FILE=$RUN/clouds.yaml   # clouds cnova-admin, cnova-demo, cnova-demo-reader, cnova-alt-demo
  /usr/bin/openstack --os-cloud cnova-demo server list
  logs: $LOG    stop: $0 stop
EOF
        if [ "$DASHBOARD" = 1 ]; then
            say "  dashboard: http://127.0.0.1:${CNOVA_DASHBOARD_PORT:-8780}/ (users admin, demo, alt_demo; password $KS_PASSWORD)"
        fi
        return
    fi
    cat <<EOF
cnova is up: http://127.0.0.1:$PORT/v2.1 ($HV)
  curl -s -H 'X-Auth-Token: admin:admin' http://127.0.0.1:$PORT/v2.1/
  /usr/bin/openstack --os-auth-type none --os-endpoint http://127.0.0.1:$PORT/v2.1 server list
  OS_AUTH_URL=http://127.0.0.1:$PORT/v2.1 OS_PROJECT_ID=demo /usr/bin/nova --os-auth-type admin_token --os-endpoint http://127.0.0.1:$PORT/v2.1 --os-token demo:demo list
  logs: $LOG    stop: $0 stop
EOF
}

cmd_stop() {
    [ -d "$RUN" ] || { say "nothing to stop (no $RUN)"; return 0; }
    RUN=$(cd "$RUN" && pwd)
    mkdir -p "$LOG"
    dashboard stop
    nginx_stop
    local f name
    stop_pid "$PIDS/cnova-api.pid" cnova-api cnova-api
    for f in "$PIDS"/cnova-compute-*.pid; do
        [ -e "$f" ] || continue
        name=$(basename "$f" .pid)
        stop_pid "$f" "$name" cnova-compute
    done
    for f in "$RUN"/libvirt/*/libvirtd.pid; do
        [ -e "$f" ] || continue
        lv_stop "$(basename "$(dirname "$f")")"
    done
    net_stop
    stop_pid "$PIDS/cnova-scheduler.pid" cnova-scheduler cnova-scheduler
    stop_pid "$PIDS/cnova-conductor.pid" cnova-conductor cnova-conductor
    rm -f "$SOCKET"
    keystone_stop
    rmq_stop
    pg_stop
    rm -f "$RUN/virt" "$RUN/host_size" "$RUN/auth"
}

cmd_status() {
    local down=0 f name n
    line() { printf '%-24s %s\n' "$1" "$2"; }
    if [ -d "$RUN" ]; then RUN=$(cd "$RUN" && pwd); fi
    if pg_running; then line postgresql "running  127.0.0.1:$PG_PORT  $(existing_dir pg)/data"
    else line postgresql stopped; down=1; fi
    for n in $(seq "$RMQ_NODES"); do
        rmq_sel "$n"
        if rmq_running; then line "rabbitmq $R_NODE" "running  127.0.0.1:$R_PORT  pid $(cat "$(existing_dir "$R_DIR")/pid")"
        else line "rabbitmq $R_NODE" stopped; down=1; fi
    done
    for name in cnova-api cnova-conductor cnova-scheduler; do
        if alive "$PIDS/$name.pid" "$name"; then line "$name" "running  pid $(cat "$PIDS/$name.pid")"
        else line "$name" stopped; down=1; fi
    done
    for name in $COMPUTE_HOSTS; do
        f=$PIDS/cnova-compute-$name.pid
        if alive "$f" cnova-compute; then line "cnova-compute-$name" "running  pid $(cat "$f")"
        else line "cnova-compute-$name" stopped; down=1; fi
        if [ "$(cat "$RUN/virt" 2>/dev/null)" = qemu ]; then
            if lv_running "$name"; then line "libvirtd-$name" "running  $(lv_uri "$name")"
            else line "libvirtd-$name" stopped; down=1; fi
        fi
    done
    if nginx_running; then line nginx "running  http://127.0.0.1:$PORT/  pid $(cat "$(nginx_pidf)")"
    else line nginx stopped; down=1; fi
    if keystone_running; then line keystone "running  $KS_URL/v3  pid $(cat "$(ks_dir)/uwsgi.pid")"
    elif [ "$AUTH" = keystone ]; then line keystone stopped; down=1; fi
    if dashboard status >/dev/null; then line dashboard "running  http://127.0.0.1:${CNOVA_DASHBOARD_PORT:-8780}/  pid $(cat "$RUN/horizon/uwsgi.pid")"
    elif [ "$DASHBOARD" = 1 ]; then line dashboard stopped; down=1; fi
    return $down
}

case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
restart) cmd_stop; cmd_start ;;
rabbitmqctl) shift; rmq_sel "${CNOVA_RMQ_NODE_INDEX:-1}"; rmq "$RMQ_BIN/rabbitmqctl" "$@" ;; # rabbitmqctl for one node (1)
db-stop) pg_stop ;;   # only the database: the resilience tests use these two
db-start) pg_start ;;
*)
    echo "usage: $0 start|stop|status|restart|db-stop|db-start|rabbitmqctl ARGS..." >&2
    exit 2
    ;;
esac
