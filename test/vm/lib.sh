# Shared by the VM lane's scripts (sourced): the skiff under test, a scratch dir, check and between,
# and the busybox-static image they run, imported once (no registry is reachable in the VM).
set -u
cd "$(dirname "${BASH_SOURCE[1]}")/../.."
S="$PWD/bin/skiff"
I=localhost/vmcheck:1
work=$(mktemp -d)
failed=0
check() { # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then echo "PASS $1"; else echo "FAIL $1: expected [$2], got [$3]"; failed=$((failed + 1)); fi
}
between() { # between NAME LOW HIGH VALUE (decimals)
  if awk -v l="$2" -v h="$3" -v v="$4" 'BEGIN { exit !(v >= l && v <= h) }'; then echo "PASS $1 ($4)"; else echo "FAIL $1: $4 not in [$2, $3]"; failed=$((failed + 1)); fi
}
vm_image() {
  $S image exists "$I" && return
  mkdir -p "$work/root/bin" "$work/root/etc" "$work/root/tmp"
  cp /bin/busybox "$work/root/bin/"
  for a in sh true cat sleep ls id echo nc dd seq; do ln -s busybox "$work/root/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$work/root/etc/passwd"
  tar -C "$work/root" -cf "$work/bb.tar" .
  $S import -q "$work/bb.tar" "$I" >/dev/null
}
