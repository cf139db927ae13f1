#!/bin/bash
# Quadlet files without root: `skiff systemd install-generator` as the user installs
# skiff-quadlet.path and .service (systemd runs no generator from a home), which write the units
# into ~/.local/share/systemd/user whenever a file in ~/.config/containers/systemd changes and
# reload the manager. A new .container file becomes a service that starts; a removed one goes.
# Runs before scripts/test-vm.sh installs the root generator (which would make the same units).
. "$(dirname "$0")/lib.sh"
Q="$HOME/.config/containers/systemd"
cleanup() {
  systemctl --user stop quser.service >/dev/null 2>&1
  rm -f "$Q/quser.container"
  $S systemd install-generator --uninstall >/dev/null 2>&1
  rm -rf "$HOME/.local/share/systemd/user"
  systemctl --user daemon-reload
  $S rm -f -t 0 systemd-quser >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
vm_image
$S systemd install-generator >/dev/null
check "quadlet without root: the path unit watches" active "$(systemctl --user is-active skiff-quadlet.path)"
mkdir -p "$Q"
printf '[Container]\nImage=%s\nExec=sleep 600\n' "$I" > "$Q/quser.container"
known() { systemctl --user show -p LoadState --value quser.service | grep -qx loaded; }
for _ in $(seq 60); do known && break; sleep 0.5; done
check "quadlet without root: a new file becomes a unit by itself" loaded "$(systemctl --user show -p LoadState --value quser.service)"
timeout 120 systemctl --user start quser.service
check "quadlet without root: the unit starts its container" running "$($S inspect --format '{{.State.Status}}' systemd-quser 2>&1)"
timeout 120 systemctl --user stop quser.service
rm -f "$Q/quser.container"
gone() { ! [ -e "$HOME/.local/share/systemd/user/quser.service" ]; }
for _ in $(seq 60); do gone && break; sleep 0.5; done
check "quadlet without root: a removed file's unit goes" gone "$(gone && echo gone || echo there)"
echo "failed: $failed"
exit "$failed"
