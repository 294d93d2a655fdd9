#!/usr/bin/env bash
# deps.sh [PACKAGE...] — install every Debian package cnova needs, if missing
# (with arguments: those packages instead, e.g. for scripts/guest-image.sh).
# Idempotent: when everything is already installed it only asks dpkg and exits.
set -euo pipefail

PACKAGES=(
    build-essential pkg-config
    postgresql nginx-light rabbitmq-server
    libfcgi-dev libjansson-dev libpq-dev librabbitmq-dev
    libvirt-dev libvirt-clients libvirt-daemon
    libvirt-daemon-system libvirt-daemon-driver-qemu qemu-system-x86 qemu-utils
    libcurl4-openssl-dev util-linux
    libcmocka-dev libssl-dev
    wrk curl python3 python3-openstackclient python3-novaclient
    python3-jsonschema python3-cryptography openssh-client openssl postgresql-client
    json-schema-test-suite genisoimage
    iproute2 dnsmasq-base dnsmasq-utils nftables
    keystone uwsgi-core uwsgi-plugin-python3 python3-psycopg2
    nodejs openstack-dashboard chromium
    python3-oslo.messaging
)
# npm: Debian's package, unless node already brings its own (NodeSource's)
# (the dashboard test's browser driver, playwright-core, comes from npm)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)
[ $# -eq 0 ] || PACKAGES=("$@")

# One dpkg-query for all of them (unknown packages only print to stderr).
installed=" $(dpkg-query -W -f='${Package}:${db:Status-Status} ' "${PACKAGES[@]}" 2>/dev/null || true)"
missing=()
for p in "${PACKAGES[@]}"; do
    case $installed in *" $p:installed "*) ;; *) missing+=("$p") ;; esac
done

# npm: the OpenAPI 3.1 validator of tests/api/test_openapi.py (none in Debian 12)
npm_deps() { [ $# -gt 0 ] || "$(dirname "$0")/openapi-validate.sh" --install; }
if [ ${#missing[@]} -eq 0 ]; then
    npm_deps "$@"
    exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "deps: missing packages (${missing[*]}) and not root, and sudo is not" \
             "available: install them as root with" >&2
        echo "      apt-get install ${missing[*]}" >&2
        exit 1
    fi
fi

echo "deps: installing ${missing[*]}" >&2
# Debian's keystone (the private Keystone of CNOVA_AUTH=keystone, which
# scripts/stack.sh runs itself) would start a system service on :5000 when
# installed: a policy-rc.d that refuses, for the length of the install,
# unless the machine has one of its own.
case " ${missing[*]} " in *" keystone "*)
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        "${SUDO[@]}" sh -c 'printf "#!/bin/sh\nexit 101\n" >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
        trap '"${SUDO[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
    fi ;;
esac
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
npm_deps "$@"
