#!/bin/bash
# The VM lane (cgroup v2, systemd as PID 1, a real user session): run inside ../shared/vm as the
# unprivileged `tester` from the repository root, after `npm run build` on the host:
#
#   SHARE=$PWD ../shared/vm/run-in-vm.sh 'bash test/vm/containers.sh' tester
#
# It imports a busybox-static root filesystem (no registry is reachable in the VM), runs containers
# through crun on a pure cgroup v2 host and checks what must hold there. Exit code: failed checks.
. "$(dirname "$0")/lib.sh"
trap 'rm -rf "$work"' EXIT

check "cgroup v2 host" v2 "$($S info --format '{{.Host.CgroupVersion}}')"
vm_image
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
check "a --rm container's root is volatile" 1 "$($S run --rm localhost/vmcheck:1 sh -c 'grep " / " /proc/mounts | grep -c volatile')"
# The runtime's state of a --rm container is its monitor's to delete, once run has returned (a
# moment later: up to 10 s under emulation on a busy host).
crun_state="$($S info --format '{{.Store.RunRoot}}')/runtime/crun"
for _ in $(seq 20); do [ "$(ls "$crun_state" | wc -l)" = 0 ] && break; sleep 0.5; done
check "run --rm leaves no runtime state" 0 "$(ls "$crun_state" | wc -l)"
# Networking on the VM: a published port from the host side through each backend (pasta is the
# default where installed), and names on a named network.
check "pasta is the default network" pasta "$($S info --format '{{.Host.NetworkBackend}}')"
# A default-network run after the first takes up the pasta the launcher started while Node booted;
# nothing of it is left once the container is gone.
$S run --rm localhost/vmcheck:1 true >/dev/null
out=$($S --log-level debug run --rm localhost/vmcheck:1 sh -c 'ls /sys/class/net | grep -v lo' 2>&1)
check "a run takes up the launcher's pasta" "1 eth0" "$(echo "$out" | grep -c "with the launcher's pasta") $(echo "$out" | grep -v DEBUG)"
sleep 1
check "no spare network left" 0 "$(ls "$($S info --format '{{.Store.RunRoot}}')/netns" | wc -l)"
for net in pasta slirp4netns; do
  $S run -d --name web --network $net -p 127.0.0.1:18080:80 localhost/vmcheck:1 sh -c 'while true; do echo hello-vm | nc -l -p 80; done' >/dev/null
  out=
  for i in 1 2 3 4 5 6 7 8 9 10; do out=$(busybox nc 127.0.0.1 18080 </dev/null 2>/dev/null) && [ -n "$out" ] && break; sleep 0.3; done
  check "published port answers ($net)" hello-vm "$out"
  $S rm -f web >/dev/null
done
$S network create vmnet >/dev/null
$S run -d --name db --network vmnet localhost/vmcheck:1 sh -c 'while true; do echo hello-db | nc -l -p 5432; done' >/dev/null
check "name on a named network" hello-db "$($S run --rm --network vmnet localhost/vmcheck:1 sh -c 'for i in 1 2 3 4 5; do nc db 5432 </dev/null && break; sleep 0.3; done')"
$S rm -f db >/dev/null
$S network rm vmnet >/dev/null
$S run --rm -v vmdata:/data localhost/vmcheck:1 sh -c 'echo kept > /data/f'
check "a named volume outlives its container" kept "$($S run --rm -v vmdata:/d localhost/vmcheck:1 cat /d/f)"
check "a volume's files are the user's on the host" "$(id -u)" "$(stat -c %u "$($S volume inspect --format '{{.Mountpoint}}' vmdata)/f")"
mkdir -p "$work/src" && echo mine > "$work/src/f"
check "a bind mount, read-only" "mine ro" "$($S run --rm -v "$work/src:/src:ro" localhost/vmcheck:1 sh -c 'cat /src/f; (echo x > /src/g) 2>/dev/null || echo ro' | tr '\n' ' ' | sed 's/ $//')"
check "keep-id under crun: your uid inside, your files outside" "$(id -u) $(id -u)" "$($S run --rm --userns=keep-id -v "$work/src:/src" localhost/vmcheck:1 sh -c 'id -u; touch /src/made' | tr -d '\n') $(stat -c %u "$work/src/made")"
check "an overlay (:O) leaves the host's tree alone" "changed mine" "$($S run --rm -v "$work/src:/src:O" localhost/vmcheck:1 sh -c 'echo changed > /src/f; cat /src/f') $(cat "$work/src/f")"
$S system reset --force >/dev/null
echo "failed: $failed"
exit "$failed"
