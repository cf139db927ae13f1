#!/usr/bin/env bash
# The VM lane (`npm run test:vm`): the checks that need systemd as PID 1, a user session and pure
# cgroup v2 (test/vm/containers.sh, test/vm/cgroups.sh), run as the unprivileged `tester` in the
# Debian VM of ../shared/vm, with this checkout (built here) shared into it. The VM image is built
# once (as root, ~80 s) under /var/tmp/skiff-vm. Where the lane cannot run, it says why in one
# line and exits 0 (VM_LANE_REQUIRED=1: exits 1); where it runs, the exit code is the failed checks.
set -uo pipefail
cd "$(dirname "$0")/.."
VM=${SKIFF_VM:-../shared/vm}
IMAGE=${SKIFF_VM_DIR:-/var/tmp/skiff-vm}/rootfs.img

cannot() {
  echo "VM lane: NOT RUN: $1"
  exit "${VM_LANE_REQUIRED:-0}"
}

[ -x "$VM/run-in-vm.sh" ] || cannot "$VM/run-in-vm.sh is missing (../shared must be beside this checkout)"
command -v qemu-system-x86_64 >/dev/null || cannot "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86 qemu-utils debootstrap)"
if [ ! -f "$IMAGE" ]; then
  [ "$(id -u)" = 0 ] || cannot "no VM image at $IMAGE, and building one takes root: sudo $VM/build-image.sh"
  command -v debootstrap >/dev/null || cannot "debootstrap is not installed (apt-get install debootstrap)"
  echo "VM lane: building the VM image (once)"
  "$VM/build-image.sh" > /tmp/skiff-vm-build.log 2>&1 || { tail -20 /tmp/skiff-vm-build.log; cannot "the VM image did not build (log: /tmp/skiff-vm-build.log)"; }
fi
npm run -s build || exit 1
# A static sd_notify client for the container side of test/vm/units.sh.
mkdir -p test/vm/build && cc -static -O2 -o test/vm/build/sd-notify test/vm/sd-notify.c || exit 1
start=$(date +%s)
# As tester: containers, cgroups, units, compose as a user service, and the first half of the reboot check; as root: skiff's
# Quadlet generator for every user, and the "reboot" of the user's world (every process of the
# user killed, its runtime dir gone, user@1000.service started again, as at boot with lingering);
# as tester again: what came back, and Quadlet files as services.
SHARE=$PWD "$VM/run-in-vm.sh" 'bash test/vm/containers.sh; a=$?; bash test/vm/cgroups.sh; b=$?; bash test/vm/units.sh; c=$?; bash test/vm/compose.sh; f=$?; bash test/vm/quadlet-user.sh; d=$?; bash test/vm/reboot.sh before; e=$?; exit $((a + b + c + d + e + f))' tester
r1=$?
SHARE=$PWD "$VM/run-in-vm.sh" '/mnt/host/bin/skiff systemd install-generator >/dev/null && loginctl terminate-user tester && sleep 2 && systemctl start user@1000.service && sleep 5' root
r2=$?
ONESHOT=1 SHARE=$PWD "$VM/run-in-vm.sh" 'bash test/vm/reboot.sh after; a=$?; bash test/vm/quadlet.sh; b=$?; exit $((a + b))' tester
r3=$?
rc=$((r1 + r2 + r3))
echo "VM lane: $([ "$rc" = 0 ] && echo passed || echo "FAILED ($rc)") in $(($(date +%s) - start)) s"
for r in $r1 $r2 $r3; do [ "$r" = 255 ] && cannot "the VM did not answer (ssh or boot failure)"; done
exit "$rc"
