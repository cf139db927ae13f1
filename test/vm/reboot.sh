#!/bin/bash
# Restart at boot (skiff-restart.service), in two halves around a "reboot" of the user's world:
# `before` starts containers with each restart policy (and stops one by hand); then, as root,
# scripts/test-vm.sh kills every process of the user (loginctl terminate-user: monitors and
# containers die as in a power loss, /run/user/UID goes) and starts user@UID.service again, as a
# boot with lingering does; `after` checks what came back. Run as tester:
#
#   bash test/vm/reboot.sh before   (then, as root: loginctl terminate-user tester; systemctl start user@1000.service)
#   bash test/vm/reboot.sh after
. "$(dirname "$0")/lib.sh"
trap 'rm -rf "$work"' EXIT
UNITS="$HOME/.config/systemd/user"
state="$HOME/.reboot-check"
case "${1:-}" in
before)
  vm_image
  $S run -d --name rb-always --restart always "$I" sh -c 'trap "exit 0" TERM; while :; do sleep 1; done' >/dev/null
  $S run -d --name rb-unless --restart unless-stopped "$I" sh -c 'trap "exit 0" TERM; while :; do sleep 1; done' >/dev/null
  $S run -d --name rb-stopped --restart unless-stopped "$I" sh -c 'trap "exit 0" TERM; while :; do sleep 1; done' >/dev/null
  $S run -d --name rb-none "$I" sh -c 'trap "exit 0" TERM; while :; do sleep 1; done' >/dev/null
  $S stop -t 0 rb-stopped >/dev/null
  check "restart at boot: the unit is written" yes "$([ -f "$UNITS/skiff-restart.service" ] && echo yes || echo no)"
  check "restart at boot: and enabled" "../skiff-restart.service" "$(readlink "$UNITS/default.target.wants/skiff-restart.service")"
  for c in rb-always rb-unless rb-none; do $S inspect --format '{{.State.StartedAt}}' "$c"; done > "$state"
  ;;
after)
  [ -f "$state" ] || { echo "FAIL restart at boot: no record of the first half"; exit 1; }
  check "restart at boot: skiff-restart.service ran" active "$(systemctl --user is-active skiff-restart.service)"
  check "restart at boot: --restart=always runs again" running "$($S inspect --format '{{.State.Status}}' rb-always)"
  check "restart at boot: unless-stopped runs again" running "$($S inspect --format '{{.State.Status}}' rb-unless)"
  check "restart at boot: unless-stopped stopped by the user stays stopped" exited "$($S inspect --format '{{.State.Status}}' rb-stopped)"
  check "restart at boot: no policy, not started" exited "$($S inspect --format '{{.State.Status}}' rb-none)"
  check "restart at boot: a new start, after the kill" yes "$([ "$($S inspect --format '{{.State.StartedAt}}' rb-always)" != "$(sed -n 1p "$state")" ] && echo yes || echo no)"
  $S rm -f -t 0 rb-always rb-unless rb-stopped rb-none >/dev/null
  rm -f "$state"
  ;;
*)
  echo "usage: reboot.sh before|after" >&2
  exit 2
  ;;
esac
echo "failed: $failed"
exit "$failed"
