#!/bin/bash
# The VM lane's cgroup checks (cgroup v2, systemd 252 as PID 1, the unprivileged `tester` with a
# session bus): limits enforced through the systemd manager, OOM kills seen, stats that are real,
# pause, live update, the scope gone after rm, and a limit needing an undelegated controller
# refused with the fix. Run after containers.sh has imported localhost/vmcheck:1, or alone:
#
#   SHARE=$PWD ../shared/vm/run-in-vm.sh 'bash test/vm/cgroups.sh' tester
. "$(dirname "$0")/lib.sh"
trap 'rm -rf "$work"; $S rm -f -t 0 cg-oom cg-cpu cg-pause cg-upd cg-stats >/dev/null 2>&1' EXIT
vm_image

check "systemd is the cgroup manager" systemd "$($S info --format '{{.Host.CgroupManager}}')"

# memory: a 200 MB buffer under a 64 MB limit is killed by the kernel, and skiff says so.
$S run --name cg-oom --memory 64m --memory-swap 64m $I dd if=/dev/zero of=/dev/null bs=200M count=1 >/dev/null 2>&1
check "OOM kill: exit 137, OOMKilled" "exited 137 true" "$($S inspect --format '{{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}}' cg-oom)"
oom_id=$($S inspect --format '{{.Id}}' cg-oom)
check "OOM kill: an oom event" 1 "$($S events --stream=false --since 5m --filter event=oom --format '{{.ID}}' 2>/dev/null | grep -c "$oom_id")"
$S rm cg-oom >/dev/null

# pids: forks past --pids-limit 20 fail.
check "pids limit: forks past it fail" yes "$($S run --rm --pids-limit 20 $I sh -c 'for i in $(seq 40); do sleep 3 & done 2>&1 | grep -q "fork" && echo yes; wait' 2>&1 | tail -1)"

# cpu: a busy loop under --cpus 0.5 gets about half a core (usage_usec over wall time, in the container's cgroup).
out=$($S run --rm --cpus 0.5 $I sh -c 'a=$(cat /sys/fs/cgroup/cpu.stat | sed -n "s/usage_usec //p"); t0=$(cat /proc/uptime | cut -d" " -f1); (while :; do :; done) & p=$!; sleep 4; kill $p; b=$(cat /sys/fs/cgroup/cpu.stat | sed -n "s/usage_usec //p"); t1=$(cat /proc/uptime | cut -d" " -f1); echo $a $b $t0 $t1')
share=$(echo "$out" | awk '{ printf "%.2f", ($2 - $1) / 1e6 / ($4 - $3) }')
between "cpus 0.5: share of a core" 0.35 0.65 "$share"

# update: a running container's limit changes at once.
$S run -d --name cg-upd --memory 64m $I sleep 300 >/dev/null
$S update --memory 128m cg-upd >/dev/null
check "update takes effect live" 134217728 "$($S exec cg-upd cat /sys/fs/cgroup/memory.max)"

# stats: real numbers; memory use rises after allocating.
$S run -d --name cg-stats $I sh -c 'sleep 2; dd if=/dev/zero bs=50M count=1 | sleep 300' >/dev/null
before=$($S stats --no-stream --format '{{.MemUsage}}' cg-stats | cut -d' ' -f1,2)
sleep 8
after_bytes=$($S stats --no-stream --format json cg-stats | sed -n 's/.*"mem_usage": \([0-9][0-9]*\).*/\1/p' | head -1)
between "stats: memory use after allocating 50 MB (MB)" 40 200 "$(awk -v b="$after_bytes" 'BEGIN { printf "%.1f", b / 1048576 }')"
check "stats: a PIDS column" PIDS "$($S stats --no-stream cg-stats | head -1 | grep -o PIDS)"
[ -n "$before" ] && echo "  (before: $before)"
# The launcher answers `stats --no-stream` without Node (native/launcher/stats.c): with no Node to
# run it still prints, and its rows are Node's (id, name, memory limit, PIDs; usage moves).
fast=$(SKIFF_NODE=/bin/false $S stats --no-stream; echo "rc=$?")
slow=$(SKIFF_NO_FAST_PATH=1 $S stats --no-stream)
columns() { awk -F '  +' '$1 != "rc=0" { split($4, m, " / "); print $1, $2, m[2], $8 }'; }
check "stats --no-stream: answered by the launcher" rc=0 "$(echo "$fast" | tail -1)"
check "stats --no-stream: the launcher's rows are Node's" "$(echo "$slow" | columns | tr '\n' ';')" "$(echo "$fast" | columns | tr '\n' ';')"
check "stats --no-stream: cg-upd's limit read from its cgroup" "134MB" "$(echo "$fast" | awk -F '  +' '$2 == "cg-upd" { split($4, m, " / "); print m[2] }' | tr -d ' ')"

# pause: a counter stops moving, and moves again after unpause.
mkdir -p "$work/p"
$S run -d --name cg-pause -v "$work/p:/p" $I sh -c 'i=0; while :; do i=$((i+1)); echo $i > /p/n; sleep 0.1; done' >/dev/null
sleep 2
$S pause cg-pause >/dev/null
check "pause: status paused" paused "$($S inspect --format '{{.State.Status}}' cg-pause)"
a=$(cat "$work/p/n"); sleep 2; b=$(cat "$work/p/n")
check "pause: the counter stops" "$a" "$b"
$S unpause cg-pause >/dev/null
sleep 2
c=$(cat "$work/p/n")
check "unpause: the counter moves again" yes "$([ "$c" -gt "$b" ] && echo yes || echo "no ($b then $c)")"
$S pause cg-pause >/dev/null
check "a paused container stops" exited "$($S stop -t 2 cg-pause >/dev/null; $S inspect --format '{{.State.Status}}' cg-pause)"

# the scope: under the user's manager while it runs, gone after rm.
id=$($S inspect --format '{{.Id}}' cg-upd)
scope=/sys/fs/cgroup/user.slice/user-$(id -u).slice/user@$(id -u).service/user.slice/skiff-$id.scope
check "the container's scope exists" yes "$([ -d "$scope" ] && echo yes || echo no)"
$S rm -f -t 0 cg-upd cg-stats cg-pause >/dev/null
check "the scope is gone after rm" gone "$([ -d "$scope" ] && echo there || echo gone)"

# io is not delegated on stock systemd 252: refused with the drop-in that fixes it.
out=$($S run --rm --device-read-bps /dev/vda:1m $I true 2>&1; echo "rc=$?")
check "io limit refused with the delegation fix" "rc=125 yes" "$(echo "$out" | tail -1) $(echo "$out" | grep -q 'Delegate=cpu cpuset io memory pids' && echo yes || echo no)"

# A container with its own user namespace (its process a subordinate id from the start) gets its
# scope and its limits too: its monitor starts in a scope of the user's manager.
check "keep-id runs under the systemd manager" ok "$($S run --rm --userns=keep-id $I sh -c 'echo ok')"
check "keep-id with --memory: the limit holds" 67108864 "$($S run --rm --userns=keep-id --memory 64m $I cat /sys/fs/cgroup/memory.max 2>&1)"
$S run --name cg-oom-keepid --userns=keep-id --memory 64m --memory-swap 64m $I dd if=/dev/zero of=/dev/null bs=200M count=1 >/dev/null 2>&1
check "keep-id OOM kill: exit 137, OOMKilled" "exited 137 true" "$($S inspect --format '{{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}}' cg-oom-keepid 2>&1)"
$S rm -f cg-oom-keepid >/dev/null 2>&1

# A unit with Delegate=yes keeps its containers: their cgroups are under the unit's, with the limit.
out=$(systemd-run --user --wait --pipe --quiet -p Delegate=yes --unit skiff-delegated "$S" run --rm --cgroupns=host --memory 64m $I sh -c 'c=$(cut -d: -f3 /proc/self/cgroup); echo $c; cat /sys/fs/cgroup$c/memory.max' 2>&1)
check "a Delegate=yes unit keeps its containers" "yes 67108864" "$(echo "$out" | head -1 | grep -q 'skiff-delegated.service/skiff-' && echo yes || echo "no ($out)") $(echo "$out" | tail -1)"
out=$(systemd-run --user --wait --pipe --quiet -p Delegate=yes --unit skiff-delegated-keepid "$S" run --rm --userns=keep-id --memory 32m $I cat /sys/fs/cgroup/memory.max 2>&1)
check "a Delegate=yes unit: keep-id with --memory" 33554432 "$out"
check "info in a Delegate=yes unit: manager cgroupfs" cgroupfs "$(systemd-run --user --wait --pipe --quiet -p Delegate=yes "$S" info --format '{{.Host.CgroupManager}}' 2>&1)"

echo "failed: $failed"
exit "$failed"
