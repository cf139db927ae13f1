#!/bin/bash
# The VM lane's systemd unit checks (systemd 252 as PID 1, the unprivileged `tester` with lingering
# and a session bus): a `generate systemd` unit starts, reports ready with the monitor as its main
# process, restarts its container when it dies, stops with nothing left; a `--new` unit works after
# the container is removed; sd_notify from the container reaches systemd (container mode), and a
# container cannot name another main process. Run after containers.sh, or alone:
#
#   npm run build && SHARE=$PWD ../shared/vm/run-in-vm.sh 'bash test/vm/units.sh' tester
. "$(dirname "$0")/lib.sh"
UNITS="$HOME/.config/systemd/user"
cleanup() {
  for u in container-gen-web container-gen-new container-gen-notify container-gen-au; do systemctl --user stop "$u.service" >/dev/null 2>&1; rm -f "$UNITS/$u.service"; done
  systemctl --user daemon-reload
  $S rm -f -t 0 gen-web gen-new gen-notify gen-au >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
vm_image
mkdir -p "$UNITS"
unit_active() { systemctl --user is-active "$1" 2>/dev/null; }
wait_for() { # wait_for SECONDS COMMAND...: until the command succeeds
  local end=$(($(date +%s) + $1))
  shift
  until "$@"; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.5; done
}

# A unit for an existing container.
$S create --name gen-web "$I" sleep 600 >/dev/null
(cd "$UNITS" && $S generate systemd --name --files gen-web >/dev/null)
systemctl --user daemon-reload
timeout 120 systemctl --user start container-gen-web.service
check "generate systemd: the unit is active (ready)" active "$(unit_active container-gen-web.service)"
check "generate systemd: the container runs" running "$($S inspect --format '{{.State.Status}}' gen-web)"
check "generate systemd: the monitor is the main process" "$($S inspect --format '{{.State.ConmonPid}}' gen-web)" \
  "$(systemctl --user show -p MainPID --value container-gen-web.service)"
# Its process dies (not stopped by skiff): the monitor exits 137, and systemd starts it again.
started=$($S inspect --format '{{.State.StartedAt}}' gen-web)
kill -9 "$($S inspect --format '{{.State.Pid}}' gen-web)"
restarted() { [ "$($S inspect --format '{{.State.StartedAt}} {{.State.Status}}' gen-web)" != "$started running" ] && [ "$($S inspect --format '{{.State.Status}}' gen-web)" = running ] && [ "$(unit_active container-gen-web.service)" = active ]; }
check "generate systemd: a container that dies is started again" yes "$(wait_for 60 restarted && echo yes || echo "no: $($S ps -a --format '{{.Names}} {{.Status}}'), unit $(unit_active container-gen-web.service)")"
monitor=$($S inspect --format '{{.State.ConmonPid}}' gen-web)
timeout 120 systemctl --user stop container-gen-web.service
check "generate systemd: stop stops the container" exited "$($S inspect --format '{{.State.Status}}' gen-web)"
check "generate systemd: no monitor left" gone "$(kill -0 "$monitor" 2>/dev/null && echo there || echo gone)"
check "generate systemd: the unit is inactive" inactive "$(unit_active container-gen-web.service)"

# --new: the unit makes the container itself, from the command that made it, and removes it.
$S run -d --name gen-new -e GREETING=hi "$I" sh -c 'echo "$GREETING" > /tmp/said; sleep 600' >/dev/null
(cd "$UNITS" && $S generate systemd --new --name --files gen-new >/dev/null)
$S rm -f -t 0 gen-new >/dev/null
systemctl --user daemon-reload
timeout 120 systemctl --user start container-gen-new.service
check "generate --new: active" active "$(unit_active container-gen-new.service)"
check "generate --new: the container runs with its recorded flags" hi "$($S exec gen-new cat /tmp/said)"
check "generate --new: the monitor is the main process" "$($S inspect --format '{{.State.ConmonPid}}' gen-new)" \
  "$(systemctl --user show -p MainPID --value container-gen-new.service)"
check "generate --new: its cgroup is inside the unit's (Delegate=yes)" yes \
  "$(grep -q 'container-gen-new.service' "/proc/$($S inspect --format '{{.State.Pid}}' gen-new)/cgroup" && echo yes || cat "/proc/$($S inspect --format '{{.State.Pid}}' gen-new)/cgroup")"
timeout 120 systemctl --user stop container-gen-new.service
check "generate --new: stop removes the container" 1 "$($S container exists gen-new; echo $?)"

# auto-update of a container its unit runs: a newer image under its name (policy local) and the
# unit is restarted, its container made again from the new image.
mkdir -p "$work/au/bin" && cp /bin/busybox "$work/au/bin/" && for a in sh sleep cat; do ln -sf busybox "$work/au/bin/$a"; done
echo 1 > "$work/au/version" && tar -C "$work/au" -cf "$work/au1.tar" . && $S import -q "$work/au1.tar" localhost/autoupd:1 >/dev/null
$S create --name gen-au --label io.containers.autoupdate=local localhost/autoupd:1 sleep 600 >/dev/null
(cd "$UNITS" && $S generate systemd --new --name --files gen-au >/dev/null)
$S rm -f -t 0 gen-au >/dev/null
systemctl --user daemon-reload
timeout 120 systemctl --user start container-gen-au.service
main=$(systemctl --user show -p MainPID --value container-gen-au.service)
echo 2 > "$work/au/version" && tar -C "$work/au" -cf "$work/au2.tar" . && new=$($S import -q "$work/au2.tar" localhost/autoupd:1)
check "auto-update: the unit's container is updated" "container-gen-au.service local true" "$($S auto-update --format '{{.Unit}} {{.Policy}} {{.Updated}}' 2>&1)"
check "auto-update: through its unit (a new main process)" yes "$([ "$(systemctl --user show -p MainPID --value container-gen-au.service)" != "$main" ] && echo yes || echo no)"
check "auto-update: the new image runs" "${new#sha256:} 2" "$($S inspect --format '{{.Image}}' gen-au) $($S exec gen-au cat /version)"
# A newer image that cannot run (no sleep in it): the unit does not come back, and auto-update
# gives the name back to the image that ran and restarts the unit on it.
rm "$work/au/bin/sleep" && echo 3 > "$work/au/version" && tar -C "$work/au" -cf "$work/au3.tar" . && $S import -q "$work/au3.tar" localhost/autoupd:1 >/dev/null
check "auto-update: a unit that does not come back is rolled back" "rolled back" "$($S auto-update --format '{{.Updated}}' 2>/dev/null)"
check "auto-update: the unit runs the old image again" "active ${new#sha256:} 2" \
  "$(systemctl --user is-active container-gen-au.service) $($S inspect --format '{{.Image}}' gen-au) $($S exec gen-au cat /version)"
timeout 120 systemctl --user stop container-gen-au.service
rm -f "$UNITS/container-gen-au.service"

# sd_notify from the container (--sdnotify=container): READY and STATUS reach systemd through the
# monitor; a MAINPID from the container is dropped.
if [ -x test/vm/build/sd-notify ]; then
  $S create --name gen-notify --sdnotify=container -v "$PWD/test/vm/build:/n:ro" "$I" \
    sh -c 'sleep 1; /n/sd-notify MAINPID=1 "STATUS=serving requests" READY=1; sleep 600' >/dev/null
  (cd "$UNITS" && $S generate systemd --new --name --files gen-notify >/dev/null)
  $S rm -f -t 0 gen-notify >/dev/null
  systemctl --user daemon-reload
  timeout 120 systemctl --user start container-gen-notify.service
  check "sdnotify=container: the unit is active once the container says READY=1" active "$(unit_active container-gen-notify.service)"
  check "sdnotify=container: STATUS= reaches systemd" "serving requests" "$(systemctl --user show -p StatusText --value container-gen-notify.service)"
  check "sdnotify=container: the container cannot move MAINPID" "$($S inspect --format '{{.State.ConmonPid}}' gen-notify)" \
    "$(systemctl --user show -p MainPID --value container-gen-notify.service)"
  timeout 120 systemctl --user stop container-gen-notify.service
else
  echo "FAIL sdnotify=container: test/vm/build/sd-notify was not built (scripts/test-vm.sh builds it)"
  failed=$((failed + 1))
fi
echo "failed: $failed"
exit "$failed"
