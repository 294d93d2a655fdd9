# keystone.sh — sourced by scripts/stack.sh: a private Keystone for
# CNOVA_AUTH=keystone (and for anything else that needs one, e.g. a
# dashboard). Debian's keystone under uwsgi (KS_PROCESSES processes) on
# 127.0.0.1:$KS_PORT, its database `keystone` in the stack's own PostgreSQL,
# every file under $RUN/keystone. Uses stack.sh's helpers and variables
# (RUN, PG_PORT, PORT, WAIT, LOG, say/die/warn, alive, pid_runs, port_open).
#
#   keystone_start        database, keystone.conf, keys and bootstrap (once),
#                         uwsgi (unless running), projects/users/roles and
#                         the catalog (scripts/keystone-init.py, when the
#                         ports or password changed), $RUN/clouds.yaml and
#                         $RUN/openrc; = keystone_launch (up to uwsgi's
#                         start) then keystone_ready (it answers, the rest)
#   keystone_stop         uwsgi stopped by its PID (INT: TERM would reload)
#   keystone_running      uwsgi runs (its pid file names a live uwsgi)
#   keystone_conf_lines   the cnova.conf overrides of Keystone mode
#                         ("section<TAB>key<TAB>value" lines for write_conf)
#   keystone_token USER PROJECT   prints a token scoped to PROJECT
#
# Knobs: CNOVA_KEYSTONE_PORT (15000), CNOVA_KEYSTONE_PASSWORD (secret: every
# user's password), CNOVA_KEYSTONE_PROCESSES (2).

KS_PORT=${CNOVA_KEYSTONE_PORT:-15000}
KS_PASSWORD=${CNOVA_KEYSTONE_PASSWORD:-secret}
KS_PROCESSES=${CNOVA_KEYSTONE_PROCESSES:-2}
KS_URL=http://127.0.0.1:$KS_PORT
KS_UWSGI=/usr/bin/uwsgi-core

ks_dir() { echo "$RUN/keystone"; }
keystone_running() { alive "$(ks_dir)/uwsgi.pid" uwsgi; }

# ks_psql SQL...: as the cluster's superuser (cnova), on the postgres database
ks_psql() { psql -h 127.0.0.1 -p "$PG_PORT" -U cnova -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }

# ks_database: role and database keystone (no password: the cluster trusts
# loopback, as it does for cnova). Returns 0 when it created the database.
ks_database() {
    [ "$(ks_psql -c "SELECT 1 FROM pg_roles WHERE rolname = 'keystone'")" = 1 ] ||
        ks_psql -c 'CREATE ROLE keystone LOGIN' || die "cannot create role keystone"
    [ "$(ks_psql -c "SELECT 1 FROM pg_database WHERE datname = 'keystone'")" = 1 ] && return 1
    ks_psql -c 'CREATE DATABASE keystone OWNER keystone' || die "cannot create database keystone"
    say "postgresql: created database keystone"
    return 0
}

# ks_conf: $RUN/keystone/keystone.conf. Every key repository is named, or
# Keystone would use /etc/keystone behind our back; so are the policy
# files (Debian's /etc/keystone/policy.d is not ours).
ks_conf() {
    local ks
    ks=$(ks_dir)
    cat >"$ks/keystone.conf.new" <<EOF
# written by scripts/stack.sh (keystone.sh): this stack's private Keystone
[DEFAULT]
log_file = $ks/keystone.log
use_stderr = false
[database]
connection = postgresql+psycopg2://keystone@127.0.0.1:$PG_PORT/keystone
[identity]
# a private, loopback-only Keystone: cheap password checks (bcrypt's least)
password_hash_rounds = 4
[token]
provider = fernet
[fernet_tokens]
key_repository = $ks/fernet-keys
[fernet_receipts]
key_repository = $ks/fernet-keys
[credential]
key_repository = $ks/credential-keys
[oslo_policy]
policy_file = $ks/policy.yaml
policy_dirs = $ks/policy.d
EOF
    [ -f "$ks/policy.yaml" ] || echo '{}' >"$ks/policy.yaml"
    mkdir -p "$ks/policy.d"
    mv "$ks/keystone.conf.new" "$ks/keystone.conf"
}

# ks_manage ARGS...: keystone-manage on our config, its output in the log
ks_manage() {
    keystone-manage --config-file "$(ks_dir)/keystone.conf" "$@" \
        </dev/null >>"$LOG/keystone-manage.log" 2>&1 ||
        { tail_log "$LOG/keystone-manage.log"; die "keystone-manage $1 failed (see $LOG/keystone-manage.log)"; }
}

# ks_setup: schema, keys and bootstrap, once per database (marker file);
# bootstrap again (admin's password, the identity endpoints) when the port
# or the password changed.
ks_setup() {
    local ks me sig
    ks=$(ks_dir)
    me=$(id -un)
    sig="$KS_PORT $(printf '%s' "$KS_PASSWORD" | md5sum | cut -c1-32)"
    ks_database && rm -f "$ks/bootstrapped"
    if [ -f "$ks/bootstrapped" ]; then
        [ "$(cat "$ks/bootstrapped")" = "$sig" ] && return 0
        say "keystone: port or password changed: bootstrap again"
    else
        say "keystone: setting up (database, keys, bootstrap: about 15 s)"
        ks_manage db_sync
    fi
    [ -f "$ks/fernet-keys/0" ] || ks_manage fernet_setup --keystone-user "$me" --keystone-group "$(id -gn)"
    [ -f "$ks/credential-keys/0" ] ||
        ks_manage credential_setup --keystone-user "$me" --keystone-group "$(id -gn)"
    ks_manage bootstrap --bootstrap-password "$KS_PASSWORD" \
        --bootstrap-username admin --bootstrap-project-name admin --bootstrap-role-name admin \
        --bootstrap-service-name keystone --bootstrap-region-id RegionOne \
        --bootstrap-admin-url "$KS_URL/v3" --bootstrap-public-url "$KS_URL/v3" \
        --bootstrap-internal-url "$KS_URL/v3"
    echo "$sig" >"$ks/bootstrapped"
    rm -f "$ks/init.done"
}

# ks_uwsgi: the service, daemonized (ks_wait: until it answers). uwsgi's plain
# http-socket closes a connection after each answer without saying so, and a
# client that reuses it (keystoneauth after GET /v3) met "connection reset":
# "Connection: close" tells it (as DevStack does); and a kept connection
# would pin one of the few processes anyway.
ks_uwsgi() {
    local ks
    ks=$(ks_dir)
    KS_STARTED=0
    if keystone_running; then
        say "keystone: already running on $KS_URL (pid $(cat "$ks/uwsgi.pid"))"
        return 0
    fi
    [ -x "$KS_UWSGI" ] || die "no $KS_UWSGI (scripts/deps.sh installs uwsgi-core uwsgi-plugin-python3)"
    port_open "$KS_PORT" && die "127.0.0.1:$KS_PORT is taken by another program (CNOVA_KEYSTONE_PORT)"
    rm -f "$ks/uwsgi.pid"
    "$KS_UWSGI" --plugin python3 --http-socket "127.0.0.1:$KS_PORT" \
        --wsgi-file /usr/bin/keystone-wsgi-public --need-app --lazy-apps \
        --master --processes "$KS_PROCESSES" --buffer-size 65535 --die-on-term \
        --add-header 'Connection: close' \
        --env "OS_KEYSTONE_CONFIG_FILES=$ks/keystone.conf" \
        --pidfile "$ks/uwsgi.pid" --daemonize "$ks/uwsgi.log" </dev/null ||
        { tail_log "$ks/uwsgi.log"; die "uwsgi did not start (see $ks/uwsgi.log)"; }
    ln -sfn "$ks/uwsgi.log" "$LOG/keystone-uwsgi.log"
    ln -sfn "$ks/keystone.log" "$LOG/keystone.log"
    KS_STARTED=1
}

# ks_wait: after ks_uwsgi started it, until it answers GET /v3.
ks_wait() {
    local ks deadline code
    ks=$(ks_dir)
    [ "${KS_STARTED:-0}" = 1 ] || return 0
    deadline=$((SECONDS + WAIT))
    while [ $SECONDS -lt $deadline ]; do
        code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$KS_URL/v3" || true)
        [ "$code" = 200 ] && { say "keystone: started on $KS_URL (pid $(cat "$ks/uwsgi.pid"))"; return 0; }
        if [ -s "$ks/uwsgi.pid" ] && ! keystone_running; then break; fi
        sleep 0.3
    done
    tail_log "$ks/uwsgi.log"
    die "Keystone did not answer GET $KS_URL/v3 (see $ks/uwsgi.log)"
}

# ks_init: projects, users, roles, catalog and clouds.yaml, when what they
# depend on changed since the last time (marker: ports and password).
ks_init() {
    local ks sig
    ks=$(ks_dir)
    sig="$KS_PORT $PORT $(printf '%s' "$KS_PASSWORD" | md5sum | cut -c1-32)"
    if [ "$(cat "$ks/init.done" 2>/dev/null)" = "$sig" ] && [ -f "$RUN/clouds.yaml" ]; then
        return 0
    fi
    KS_URL=$KS_URL KS_PASSWORD=$KS_PASSWORD CNOVA_URL=http://127.0.0.1:$PORT CLOUDS=$RUN/clouds.yaml \
        /usr/bin/python3 "$REPO/scripts/keystone-init.py" >>"$LOG/keystone-init.log" 2>&1 ||
        { tail_log "$LOG/keystone-init.log"; die "Keystone's projects, users or catalog failed (see $LOG/keystone-init.log)"; }
    echo "$sig" >"$ks/init.done"
    say "keystone: projects, users and catalog ready; clients: OS_CLIENT_CONFIG_FILE=$RUN/clouds.yaml"
}

keystone_start() {
    keystone_launch
    keystone_ready
}

# keystone_launch, keystone_ready: keystone_start in two halves, so that
# the caller starts something else while uwsgi loads Keystone (~5 s).
keystone_launch() {
    command -v keystone-manage >/dev/null 2>&1 ||
        die "Keystone is not installed (scripts/deps.sh installs it)"
    mkdir -p "$(ks_dir)/fernet-keys" "$(ks_dir)/credential-keys"
    chmod 700 "$(ks_dir)"
    ks_conf
    ks_setup
    ks_uwsgi
}

keystone_ready() {
    ks_wait
    ks_init
}

keystone_stop() {
    # INT: uwsgi reloads on TERM
    stop_pid "$(ks_dir)/uwsgi.pid" keystone uwsgi INT
}

keystone_conf_lines() {
    printf '%s\t%s\t%s\n' \
        api auth_strategy keystone \
        keystone_authtoken www_authenticate_uri "$KS_URL" \
        keystone_authtoken auth_url "$KS_URL" \
        keystone_authtoken auth_type password \
        keystone_authtoken username nova \
        keystone_authtoken password "$KS_PASSWORD" \
        keystone_authtoken project_name service \
        keystone_authtoken user_domain_name Default \
        keystone_authtoken project_domain_name Default \
        keystone_authtoken token_cache_time 300 \
        keystone_authtoken service_token_roles service \
        keystone_authtoken service_token_roles_required true
}

# keystone_token USER PROJECT: a token for USER scoped to PROJECT (Default
# domain, the stack's password), printed; 1 when Keystone refuses.
keystone_token() {
    KS_URL=$KS_URL KS_PASSWORD=$KS_PASSWORD /usr/bin/python3 - "$1" "$2" <<'PY'
import json, os, sys, urllib.request
body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
    "name": sys.argv[1], "domain": {"id": "default"}, "password": os.environ["KS_PASSWORD"]}}},
    "scope": {"project": {"name": sys.argv[2], "domain": {"id": "default"}}}}}
req = urllib.request.Request(os.environ["KS_URL"] + "/v3/auth/tokens", json.dumps(body).encode(),
                             {"Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=30) as r:
    print(r.headers["X-Subject-Token"])
PY
}
