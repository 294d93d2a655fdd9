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
    python3-oslo.messaging
)
[ $# -eq 0 ] || PACKAGES=("$@")

# One dpkg-query for all of them (unknown packages only print to stderr).
installed=" $(dpkg-query -W -f='${Package}:${db:Status-Status} ' "${PACKAGES[@]}" 2>/dev/null || true)"
missing=()
for p in "${PACKAGES[@]}"; do
    case $installed in *" $p:installed "*) ;; *) missing+=("$p") ;; esac
done

if [ ${#missing[@]} -eq 0 ]; then
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
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
