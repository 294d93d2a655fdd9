#!/usr/bin/env bash
# guest-image.sh OUTDIR — builds the tiny test guest from Debian packages:
# OUTDIR/vmlinuz (Debian's cloud kernel, else the generic one) and
# OUTDIR/initrd.img (gzip'd newc cpio: busybox-static, dropbear, the virtio,
# cdrom and ISO9660 modules and scripts/guest/init). No disk image: boot it
# with -kernel/-initrd (libvirt: <kernel>/<initrd>) and the command line
# "console=ttyS0 panic=-1 quiet". Nothing is installed into /boot: packages
# are unpacked under a cache (CNOVA_GUEST_CACHE, /var/tmp/cnova-guest-cache),
# and a second run whose inputs have not changed only checks a stamp.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: guest-image.sh OUTDIR}
cache=${CNOVA_GUEST_CACHE:-/var/tmp/cnova-guest-cache}
kernels=(linux-image-cloud-amd64 linux-image-amd64)
modules=(virtio_pci virtio_net virtio_blk ata_piix sr_mod isofs button evdev)
inputs=("$0" "$here"/guest/init "$here"/guest/udhcpc.script "$here"/guest/json-flat.awk)
cmdline="console=ttyS0 panic=-1 quiet"

"$here"/deps.sh busybox-static dropbear-bin cpio kmod gzip

mkdir -p "$out" "$cache"/kernel "$cache"/debs
out=$(cd "$out" && pwd)
exec 9> "$cache"/.lock   # one build at a time per cache (other worktrees share it)
flock 9

# ---- the kernel: the newest version the archive offers, unpacked once ----
kdir=
if [ -L "$cache"/kernel/current ] && [ -d "$cache"/kernel/current/ ] && [ -z "${CNOVA_GUEST_REFRESH:-}" ]; then
    kdir=$(readlink -f "$cache"/kernel/current)
else
    pkg=
    for attempt in cached updated; do
        for meta in "${kernels[@]}"; do
            pkg=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
            [ -n "$pkg" ] && break
        done
        [ -n "$pkg" ] || [ $attempt = updated ] && break
        apt-get update -q >/dev/null
    done
    [ -n "$pkg" ] || { echo "guest-image: no kernel package (${kernels[*]}) in the archive" >&2; exit 1; }
    kver=${pkg#linux-image-}
    kdir=$cache/kernel/$kver
    if [ ! -d "$kdir" ]; then
        echo "guest-image: unpacking $pkg into $kdir" >&2
        (cd "$cache"/debs && apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
        deb=$(ls -t "$cache"/debs/"${pkg}"_*.deb 2>/dev/null | head -n 1)
        [ -n "$deb" ] || { echo "guest-image: apt-get download $pkg failed" >&2; exit 1; }
        rm -rf "$kdir.tmp"
        dpkg-deb -x "$deb" "$kdir.tmp"
        depmod -b "$kdir.tmp" "$kver"
        mv "$kdir.tmp" "$kdir"
    fi
    ln -sfn "$kver" "$cache"/kernel/current
fi
kver=$(basename "$kdir")

# ---- nothing changed since the last build: done ----
stamp=$( { echo "$kver"; dpkg-query -W busybox-static dropbear-bin; cat "${inputs[@]}"; } | sha256sum | cut -c1-16)
summary() {
    echo "guest image in $out: kernel $kver, vmlinuz $(du -k "$out"/vmlinuz | cut -f1) KiB," \
         "initrd.img $(du -k "$out"/initrd.img | cut -f1) KiB; boot with -append \"$cmdline\""
}
if [ -f "$out"/vmlinuz ] && [ -f "$out"/initrd.img ] && [ "$(cat "$out"/.stamp 2>/dev/null)" = "$stamp" ]; then
    summary
    exit 0
fi

# ---- the initramfs tree ----
root=$(mktemp -d "$cache"/root.XXXXXX)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,etc,lib/modules,lib64,mnt,proc,root,run,sys,tmp,usr,var}
ln -s bin "$root"/sbin; ln -s ../bin "$root"/usr/bin; ln -s ../bin "$root"/usr/sbin
cp /bin/busybox "$root"/bin/busybox
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"; done

# dropbear and the libraries it is linked with
for b in /usr/sbin/dropbear /usr/bin/dropbearkey; do
    cp "$b" "$root"/bin/
    for lib in $(ldd "$b" | awk '$3 ~ /^\// {print $3} $1 ~ /^\/lib/ {print $1}'); do
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
done

# modules, flat, in dependency order (modprobe --show-depends prints it)
for m in "${modules[@]}"; do
    modprobe -d "$kdir" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
    name=$(basename "$ko"); name=${name%.xz}; name=${name%.zst}
    case $ko in
        *.xz) xz -dc "$ko" > "$root/lib/modules/$name" ;;
        *.zst) zstd -qdc "$ko" > "$root/lib/modules/$name" ;;
        *) cp "$ko" "$root/lib/modules/$name" ;;
    esac
    echo "$name" >> "$root"/lib/modules/load.order
done

install -m 755 "$here"/guest/init "$root"/init
install -m 755 "$here"/guest/udhcpc.script "$root"/etc/udhcpc.script
install -m 644 "$here"/guest/json-flat.awk "$root"/lib/json-flat.awk
echo 'root:x:0:0:root:/root:/bin/sh' > "$root"/etc/passwd
echo 'root:*:19000:0:99999:7:::' > "$root"/etc/shadow   # no password; '!' would lock out keys too
echo 'root:x:0:' > "$root"/etc/group
echo '/bin/sh' > "$root"/etc/shells
printf '::ctrlaltdel:/bin/reboot -f\n::shutdown:/bin/sync\n' > "$root"/etc/inittab
# the ACPI power button (a hypervisor's clean shutdown): busybox acpid runs
# /etc/acpi/PWRF/00000080 for it
mkdir -p "$root"/etc/acpi/PWRF
printf '#!/bin/sh\necho "cnova-guest: ACPI power button: powering off" > /dev/console\nexec poweroff\n' \
    > "$root"/etc/acpi/PWRF/00000080
chmod 755 "$root"/etc/acpi/PWRF/00000080
chmod 600 "$root"/etc/shadow; chmod 700 "$root"/root

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9 > "$out"/initrd.img.tmp
mv "$out"/initrd.img.tmp "$out"/initrd.img
cp "$kdir"/boot/vmlinuz-"$kver" "$out"/vmlinuz.tmp && mv "$out"/vmlinuz.tmp "$out"/vmlinuz
cat > "$out"/README <<EOT
cnova test guest, built by scripts/guest-image.sh from Debian packages.
kernel: $kver; initrd: busybox-static, dropbear, modules ${modules[*]}
boot:   qemu-system-x86_64 -machine pc -m 256 -nographic -kernel vmlinuz -initrd initrd.img \\
          -append "$cmdline" -netdev tap,... -device virtio-net-pci,... \\
          [-drive file=config.iso,if=ide,media=cdrom]   (ISO9660 labelled config-2)
It takes eth0 by DHCP, reads openstack/latest/meta_data.json (hostname,
public_keys) and user_data from the config drive, else from
http://169.254.169.254, runs a "#!" user_data (output on the console),
starts dropbear on port 22 for root (busybox sh) and prints
"cnova-guest <hostname> up in N.NN s" on ttyS0.
EOT
echo "$stamp" > "$out"/.stamp
summary
