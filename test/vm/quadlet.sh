#!/bin/bash
# Quadlet-style files as user services: with skiff's generator installed for every user (as root:
# `skiff systemd install-generator`, which scripts/test-vm.sh does first), a .container file
# becomes a unit at daemon-reload that starts, runs the container with its settings and removes it
# when stopped; a bad file makes no unit, and `systemd check` names its line.
. "$(dirname "$0")/lib.sh"
Q="$HOME/.config/containers/systemd"
cleanup() {
  systemctl --user stop qweb.service >/dev/null 2>&1
  rm -f "$Q/qweb.container" "$Q/qbad.container"
  systemctl --user daemon-reload
  $S rm -f -t 0 systemd-qweb >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
vm_image
mkdir -p "$Q"
check "the generator is installed" yes "$([ -x /etc/systemd/user-generators/skiff-generator ] && echo yes || echo no)"
cat > "$Q/qweb.container" <<UNIT
[Unit]
Description=a Quadlet container

[Container]
Image=$I
Exec=sleep 600
Environment=GREETING=quadlet
HealthCmd=test -e /
HealthInterval=2s
UNIT
printf '[Container]\nImage=%s\nBogus=1\n' "$I" > "$Q/qbad.container"
systemctl --user daemon-reload
timeout 120 systemctl --user start qweb.service
check "quadlet: the unit is active" active "$(systemctl --user is-active qweb.service)"
check "quadlet: its container runs, named systemd-NAME" running "$($S inspect --format '{{.State.Status}}' systemd-qweb)"
check "quadlet: Environment= reaches the container" quadlet "$($S exec systemd-qweb sh -c 'echo $GREETING')"
check "quadlet: the monitor is the main process" "$($S inspect --format '{{.State.ConmonPid}}' systemd-qweb)" "$(systemctl --user show -p MainPID --value qweb.service)"
healthy() { [ "$($S inspect --format '{{.State.Health.Status}}' systemd-qweb)" = healthy ]; }
for _ in $(seq 40); do healthy && break; sleep 0.5; done
check "quadlet: HealthCmd= runs (healthy)" healthy "$($S inspect --format '{{.State.Health.Status}}' systemd-qweb)"
timeout 120 systemctl --user stop qweb.service
check "quadlet: stopping the unit removes the container" 1 "$($S container exists systemd-qweb; echo $?)"
check "quadlet: a bad file makes no unit" no "$(systemctl --user cat qbad.service >/dev/null 2>&1 && echo yes || echo no)"
check "quadlet: systemd check names the bad line" "1 yes" "$(out=$($S systemd check "$Q/qbad.container" 2>&1); echo "$? $(echo "$out" | grep -q 'qbad.container:3' && echo yes || echo "no: $out")")"
echo "failed: $failed"
exit "$failed"
