#!/usr/bin/env bash
# guest-disk.sh GUESTDIR OUT.qcow2 — the tiny test guest (GUESTDIR/vmlinuz and
# GUESTDIR/initrd.img from scripts/guest-image.sh) as a cloud image of the
# usual kind: a whole disk with an MBR, one bootable FAT partition holding
# SYSLINUX, the kernel and the initramfs, converted to qcow2. It boots from
# its own disk (the BIOS, then SYSLINUX), with no kernel_id or ramdisk_id,
# as a user's uploaded cloud image does. Built without mounting anything
# (mtools writes into the partition's file).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${1:?usage: guest-disk.sh GUESTDIR OUT.qcow2}
out=${2:?usage: guest-disk.sh GUESTDIR OUT.qcow2}
"$here"/deps.sh syslinux syslinux-common mtools dosfstools fdisk qemu-utils
mbr=/usr/lib/syslinux/mbr/mbr.bin

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# 1 MiB of MBR and gap, then a FAT16 partition to the end of 64 MiB
truncate -s 64M "$tmp/disk.raw"
printf 'start=2048, type=6, bootable\n' | sfdisk -q "$tmp/disk.raw"
truncate -s 63M "$tmp/part.img"
mkfs.fat -F 16 -n CNOVA "$tmp/part.img" >/dev/null
syslinux --install "$tmp/part.img"
printf 'SERIAL 0 115200\nDEFAULT linux\nPROMPT 0\nTIMEOUT 0\nLABEL linux\n  KERNEL vmlinuz\n  APPEND initrd=initrd.img console=ttyS0 panic=-1 quiet\n' \
    >"$tmp/syslinux.cfg"
mcopy -i "$tmp/part.img" "$src/vmlinuz" "$src/initrd.img" "$tmp/syslinux.cfg" ::/
dd if="$mbr" of="$tmp/disk.raw" bs=440 count=1 conv=notrunc status=none
dd if="$tmp/part.img" of="$tmp/disk.raw" bs=1M seek=1 conv=notrunc status=none
qemu-img convert -f raw -O qcow2 "$tmp/disk.raw" "$out"
echo "cloud image of the tiny guest: $out ($(du -k "$out" | cut -f1) KiB, qcow2, 64 MiB disk)"
