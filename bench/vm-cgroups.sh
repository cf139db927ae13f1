#!/bin/bash
# The cgroup benchmarks of the VM lane (ratios only: the VM is emulated, ~15x slower than its host):
# `run --rm --memory 64m busybox true` and `stats --no-stream` of 10 running containers, skiff
# against podman 4.3 with --cgroup-manager systemd, as `tester`, alternating, medians of RUNS.
#
#   npm run build && SHARE=$PWD ../shared/vm/run-in-vm.sh 'bash bench/vm-cgroups.sh' tester
set -u
cd "$(dirname "$0")/.."
# skiff runs from a copy on the VM's own disk: read over the 9p share, every start of the bundle
# cost ~0.5 s more than `node -e 0` under emulation (podman is installed in the VM).
rm -rf "$HOME/skiff-bench" && mkdir -p "$HOME/skiff-bench/native" && cp -a bin dist "$HOME/skiff-bench/" && cp -a native/build "$HOME/skiff-bench/native/"
S="$HOME/skiff-bench/bin/skiff"
P="podman --cgroup-manager systemd"
RUNS=${RUNS:-7}
work=$(mktemp -d)
trap 'rm -rf "$work"; $S rm -f -a -t 0 >/dev/null 2>&1; $P rm -f -a -t 0 >/dev/null 2>&1; rm -rf "$HOME/skiff-bench"' EXIT
mkdir -p "$work/root/bin" "$work/root/etc"
cp /bin/busybox "$work/root/bin/"
for a in sh true sleep; do ln -s busybox "$work/root/bin/$a"; done
tar -C "$work/root" -cf "$work/bb.tar" .
$S import -q "$work/bb.tar" localhost/benchbox:1 >/dev/null
$P import -q "$work/bb.tar" localhost/benchbox:1 >/dev/null
ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1 || echo "failed: $*" >&2; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

for c in "node -e 0" "$S --version" "podman --version"; do echo "$c: $(ms $c) ms"; done
# Warm both (code caches, the first scope of each).
ms $S run --rm --memory 64m localhost/benchbox:1 true >/dev/null
ms $P run --rm --memory 64m localhost/benchbox:1 true >/dev/null
: > "$work/s"; : > "$work/p"
for i in $(seq "$RUNS"); do
  ms $S run --rm --network none --memory 64m localhost/benchbox:1 true >> "$work/s"
  ms $P run --rm --network none --memory 64m localhost/benchbox:1 true >> "$work/p"
done
s=$(median < "$work/s"); p=$(median < "$work/p")
echo "run --rm --memory 64m true: skiff $s ms, podman $p ms, ratio $(awk -v a="$s" -v b="$p" 'BEGIN { printf "%.2f", a / b }') (goal <= 0.6)"

for i in $(seq 10); do
  $S run -d --network none --name "bs$i" localhost/benchbox:1 sleep 600 >/dev/null
  $P run -d --network none --name "bp$i" localhost/benchbox:1 sleep 600 >/dev/null
done
: > "$work/s"; : > "$work/p"
for i in $(seq "$RUNS"); do
  ms $S stats --no-stream >> "$work/s"
  ms $P stats --no-stream >> "$work/p"
done
s=$(median < "$work/s"); p=$(median < "$work/p")
echo "stats --no-stream, 10 containers: skiff $s ms, podman $p ms, ratio $(awk -v a="$s" -v b="$p" 'BEGIN { printf "%.2f", a / b }') (goal <= 0.5)"
