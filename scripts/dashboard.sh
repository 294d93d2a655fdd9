#!/usr/bin/env bash
# dashboard.sh start|stop|status — Horizon (Debian's openstack-dashboard)
# against a cnova stack in Keystone mode, on http://127.0.0.1:$PORT/.
#
# Runs from Debian's own tree without Apache and without touching /etc: a
# settings module of ours ($RUN/horizon/cnova_dashboard_settings.py, which
# imports Debian's settings and then points them at this stack's Keystone)
# under uwsgi, which also serves the static files Debian collected and
# compressed at install time (/var/lib/openstack-dashboard/static, with
# COMPRESS_OFFLINE's manifest). Sessions live in signed cookies and the
# cache in each process's memory: no memcached, no database. Every file is
# under $RUN/horizon (settings, secret key, pid file, uwsgi.log). `stop`
# stops the uwsgi master by its PID file, never by name.
#
# scripts/stack.sh calls it when CNOVA_DASHBOARD=1 (with CNOVA_AUTH=keystone).
# Knobs (environment, with defaults):
#   CNOVA_RUN                 $REPO/run   the stack's run folder
#   CNOVA_DASHBOARD_PORT      8780        Horizon's HTTP port (127.0.0.1)
#   CNOVA_KEYSTONE_PORT       15000       the stack's Keystone
#   CNOVA_DASHBOARD_PROCESSES 2           uwsgi processes
#   CNOVA_WAIT                60          seconds to wait for the login page
#   CNOVA_DASHBOARD_DEBUG     0           1: log every API request Horizon makes
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN=${CNOVA_RUN:-$REPO/run}
case $RUN in /*) ;; *) RUN=$PWD/$RUN ;; esac
PORT=${CNOVA_DASHBOARD_PORT:-8780}
KS_PORT=${CNOVA_KEYSTONE_PORT:-15000}
PROCESSES=${CNOVA_DASHBOARD_PROCESSES:-2}
WAIT=${CNOVA_WAIT:-60}
DEBUG_LEVEL=INFO
[ "${CNOVA_DASHBOARD_DEBUG:-0}" = 1 ] && DEBUG_LEVEL=DEBUG
DIR=$RUN/horizon
PIDF=$DIR/uwsgi.pid
UWSGI=/usr/bin/uwsgi-core
STATIC=/var/lib/openstack-dashboard/static
URL=http://127.0.0.1:$PORT

say() { printf '%s\n' "$*"; }
die() { printf 'dashboard.sh: %s\n' "$*" >&2; exit 1; }

warn() { printf 'dashboard.sh: warning: %s\n' "$*" >&2; }
# shellcheck source=scripts/lib.sh
. "$REPO/scripts/lib.sh"
# running: the pid file names a live uwsgi serving our settings
running() { alive "$PIDF" "$DIR"; }

# settings: the settings module and the WSGI entry (Debian's wsgi.py forces
# its own settings module, so we have our own three lines)
settings() {
    cat >"$DIR/cnova_dashboard_settings.py.new" <<EOF
# written by scripts/dashboard.sh: Horizon against this cnova stack
from openstack_dashboard.settings import *  # noqa: F401,F403
from horizon.utils import secret_key as _secret_key

DEBUG = False
ALLOWED_HOSTS = ['127.0.0.1', 'localhost']
OPENSTACK_KEYSTONE_URL = 'http://127.0.0.1:$KS_PORT/v3'
OPENSTACK_KEYSTONE_DEFAULT_ROLE = 'member'
OPENSTACK_API_VERSIONS = {'identity': 3, 'image': 2, 'compute': 2}
SECRET_KEY = _secret_key.generate_or_read_from_file('$DIR/secret_key')
SESSION_ENGINE = 'django.contrib.sessions.backends.signed_cookies'
CACHES = {'default': {'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'}}
STATIC_ROOT = '$STATIC'
COMPRESS_OFFLINE = True
TIME_ZONE = 'UTC'
HORIZON_CONFIG['customization_module'] = 'cnova_dashboard.overrides'
# cnova has no Neutron (no network service in the catalog): with Neutron's
# quotas on, Horizon 23's Project Overview asks Neutron for its extensions
# and fails (ServiceCatalogException: network, a 500)
OPENSTACK_NEUTRON_NETWORK = {
    'enable_quotas': False,
    'enable_router': False,
    'enable_distributed_router': False,
    'enable_ha_router': False,
    'enable_ipv6': False,
    'enable_fip_topology_check': False,
}
# every API call and every error to uwsgi.log
LOGGING = {
    'version': 1,
    'disable_existing_loggers': False,
    'formatters': {'plain': {'format': '%(asctime)s %(levelname)s %(name)s %(message)s'}},
    'handlers': {'log': {'class': 'logging.StreamHandler', 'formatter': 'plain'}},
    'root': {'handlers': ['log'], 'level': 'WARNING'},
    'loggers': {
        'horizon': {'level': 'INFO'},
        'openstack_dashboard': {'level': 'INFO'},
        'openstack_auth': {'level': 'INFO'},
        # $DEBUG_LEVEL: CNOVA_DASHBOARD_DEBUG=1 logs every request Horizon makes
        'keystoneauth.session': {'level': '$DEBUG_LEVEL'},
        'django.request': {'level': 'ERROR'},
    },
}
EOF
    mv "$DIR/cnova_dashboard_settings.py.new" "$DIR/cnova_dashboard_settings.py"
    # Horizon 23 takes Neutron for granted in two places that Launch
    # Instance meets; with no network service in the catalog (cnova's own
    # networks are the compute API's), these overrides answer instead:
    # - it asks Neutron for the security groups whatever the catalog holds
    #   (and shows "Unable to retrieve the security groups."): there are
    #   none to choose (the wizard hides its Security Groups step then);
    # - it creates the server at the newest microversion it knows (2.60 and
    #   up) with no networks at all, which novaclient refuses after 2.36
    #   ("nics are required"): "auto", the project's default network, as
    #   Nova before 2.37 gave when none was named.
    mkdir -p "$DIR/cnova_dashboard"
    : >"$DIR/cnova_dashboard/__init__.py"
    cat >"$DIR/cnova_dashboard/overrides.py" <<'EOF'
# written by scripts/dashboard.sh (HORIZON_CONFIG['customization_module'])
from openstack_dashboard.api import base, neutron, nova

_security_group_list = neutron.security_group_list


def security_group_list(request, **params):
    if not base.is_service_enabled(request, 'network'):
        return []
    return _security_group_list(request, **params)


neutron.security_group_list = security_group_list

_server_create = nova.server_create


def server_create(request, *args, **kwargs):
    if not kwargs.get('nics') and not base.is_service_enabled(request, 'network'):
        kwargs['nics'] = [{'net-id': '__auto_allocate__'}]  # Horizon's way to say "auto"
    return _server_create(request, *args, **kwargs)


nova.server_create = server_create
EOF
    cat >"$DIR/wsgi.py" <<'EOF'
# written by scripts/dashboard.sh
import os
import warnings
warnings.simplefilter('ignore')  # oslo.policy's deprecation noise, per request
os.environ['DJANGO_SETTINGS_MODULE'] = 'cnova_dashboard_settings'
from django.core.wsgi import get_wsgi_application  # noqa: E402
application = get_wsgi_application()
EOF
}

cmd_start() {
    mkdir -p "$DIR"
    chmod 700 "$DIR"
    if running; then
        say "dashboard: already running on $URL/ (pid $(cat "$PIDF"))"
        return 0
    fi
    [ -d /usr/lib/python3/dist-packages/openstack_dashboard ] ||
        die "Horizon is not installed (CNOVA_DASHBOARD=1 scripts/deps.sh installs openstack-dashboard)"
    [ -x "$UWSGI" ] || die "no $UWSGI (scripts/deps.sh installs uwsgi-core uwsgi-plugin-python3)"
    [ -f "$STATIC/dashboard/manifest.json" ] ||
        die "no $STATIC/dashboard/manifest.json: openstack-dashboard's install did not compress its static files (dpkg-reconfigure openstack-dashboard)"
    port_open "$PORT" && die "127.0.0.1:$PORT is taken by another program (CNOVA_DASHBOARD_PORT)"
    settings
    rm -f "$PIDF"
    # http-socket closes the connection after each answer: "Connection: close" says so
    "$UWSGI" --plugin python3 --http-socket "127.0.0.1:$PORT" \
        --pythonpath "$DIR" --wsgi-file "$DIR/wsgi.py" --need-app \
        --master --processes "$PROCESSES" --threads 2 --buffer-size 65535 --die-on-term \
        --add-header 'Connection: close' \
        --static-map "/static=$STATIC" --static-expires-uri '/static/.* 86400' \
        --pidfile "$PIDF" --daemonize "$DIR/uwsgi.log" </dev/null >>"$DIR/uwsgi.log" 2>&1 ||
        die "uwsgi did not start (see $DIR/uwsgi.log)"
    local deadline=$((SECONDS + WAIT)) code=000
    while [ $SECONDS -lt $deadline ]; do
        code=$(curl -s -o /dev/null -m 10 -w '%{http_code}' "$URL/auth/login/" || true)
        [ "$code" = 200 ] && break
        if [ -s "$PIDF" ] && ! running; then break; fi
        sleep 0.5
    done
    if [ "$code" != 200 ]; then
        tail -n 30 "$DIR/uwsgi.log" >&2 || true
        die "Horizon did not answer GET $URL/auth/login/ (last status $code; see $DIR/uwsgi.log)"
    fi
    [ -d "$RUN/log" ] && ln -sfn "$DIR/uwsgi.log" "$RUN/log/horizon.log"
    say "dashboard: started on $URL/ (pid $(cat "$PIDF"), log $DIR/uwsgi.log)"
}

cmd_stop() {
    # uwsgi reloads on TERM
    stop_pid "$PIDF" dashboard "$DIR" INT
}

case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
status) if running; then say "dashboard running  $URL/  pid $(cat "$PIDF")"; else say "dashboard stopped"; exit 1; fi ;;
*) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
