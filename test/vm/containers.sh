#!/bin/bash
# The VM lane (cgroup v2, systemd as PID 1, a real user session): run inside ../shared/vm as the
# unprivileged `tester` from the repository root, after `npm run build` on the host:
#
#   SHARE=$PWD ../shared/vm/run-in-vm.sh 'bash test/vm/containers.sh' tester
#
# It imports a busybox-static root filesystem (no registry is reachable in the VM), runs containers
# through crun on a pure cgroup v2 host and checks what must hold there. Exit code: failed checks.
set -u
cd "$(dirname "$0")/../.."
S="node $PWD/bin/skiff"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
check() { # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then echo "PASS $1"; else echo "FAIL $1: expected [$2], got [$3]"; failed=$((failed + 1)); fi
}

mkdir -p "$work/root/bin" "$work/root/etc" "$work/root/tmp"
cp /bin/busybox "$work/root/bin/"
for a in sh true cat sleep ls id echo; do ln -s busybox "$work/root/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$work/root/etc/passwd"
tar -C "$work/root" -cf "$work/bb.tar" .

check "cgroup v2 host" v2 "$($S info --format '{{.Host.CgroupVersion}}')"
$S import -q "$work/bb.tar" localhost/vmcheck:1 >/dev/null
check "run prints and exits 0" "hello 0" "$($S run --rm localhost/vmcheck:1 sh -c 'printf hello'; echo " $?")"
check "exit code passes through" 7 "$($S run --rm localhost/vmcheck:1 sh -c 'exit 7' >/dev/null; echo $?)"
check "own cgroup namespace" "0::/" "$($S run --rm localhost/vmcheck:1 cat /proc/self/cgroup)"
check "crun is the runtime" crun "$($S run -d --name vmc localhost/vmcheck:1 sleep 100 >/dev/null; $S inspect --format '{{.OCIRuntime}}' vmc)"
check "detached container runs" running "$($S inspect --format '{{.State.Status}}' vmc)"
check "exec" exec-ok "$($S exec vmc sh -c 'echo exec-ok')"
$S stop -t 1 vmc >/dev/null
check "stop records SIGKILL after the timeout" "exited 137" "$($S inspect --format '{{.State.Status}} {{.State.ExitCode}}' vmc)"
$S rm vmc >/dev/null
check "native overlay chosen" overlay "$($S info --format '{{.Store.RootfsDriver}}')"
$S system reset --force >/dev/null
echo "failed: $failed"
exit "$failed"
