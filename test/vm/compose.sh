#!/bin/bash
# `skiff compose` as a systemd user service (issue 27): a unit whose main process is a foreground
# `compose up` brings the project up (a service waiting for another's healthcheck, which systemd's
# timers drive here), `systemctl --user stop` ends `up` by SIGTERM, which stops the project, and
# ExecStopPost's `compose down` leaves no container, network or process of it. Run alone:
#
#   npm run build && SHARE=$PWD ../shared/vm/run-in-vm.sh 'bash test/vm/compose.sh' tester
. "$(dirname "$0")/lib.sh"
UNITS="$HOME/.config/systemd/user"
P="$work/proj"
cleanup() {
  systemctl --user stop skiff-compose-vm.service >/dev/null 2>&1
  rm -f "$UNITS/skiff-compose-vm.service"
  systemctl --user daemon-reload
  $S compose -f "$P/compose.yaml" down -v -t 0 >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
vm_image
mkdir -p "$UNITS" "$P"
cat > "$P/compose.yaml" <<EOF
name: vmproj
services:
  db:
    image: $I
    command: ["sh", "-c", "echo ready > /data/flag; trap 'exit 0' TERM; while :; do sleep 1; done"]
    volumes: ["data:/data"]
    healthcheck:
      test: ["CMD-SHELL", "test -f /data/flag"]
      interval: 1s
      retries: 30
  web:
    image: $I
    command: ["sh", "-c", "echo web up; trap 'exit 0' TERM; while :; do sleep 1; done"]
    depends_on:
      db:
        condition: service_healthy
volumes:
  data:
EOF
cat > "$UNITS/skiff-compose-vm.service" <<EOF
[Unit]
Description=skiff compose project vmproj
[Service]
Type=exec
WorkingDirectory=$P
ExecStart=$S compose up --no-color
StandardOutput=append:$work/up.log
StandardError=append:$work/up.log
ExecStopPost=$S compose down
TimeoutStopSec=60
[Install]
WantedBy=default.target
EOF
systemctl --user daemon-reload
timeout 120 systemctl --user start skiff-compose-vm.service
state() { $S inspect --format '{{.State.Status}}' "$1" 2>&1; }
up_all() { [ "$(state vmproj-db-1)" = running ] && [ "$(state vmproj-web-1)" = running ]; }
for _ in $(seq 120); do up_all && break; sleep 0.5; done
check "compose under systemd: the unit is active" active "$(systemctl --user is-active skiff-compose-vm.service)"
check "compose under systemd: db runs" running "$(state vmproj-db-1)"
check "compose under systemd: web (after db is healthy) runs" running "$(state vmproj-web-1)"
check "compose under systemd: db is healthy" healthy "$($S inspect --format '{{.State.Health.Status}}' vmproj-db-1 2>&1)"
check "compose under systemd: up prints the services' logs" yes "$(for _ in $(seq 20); do grep -q 'web-1 *| web up' "$work/up.log" && echo yes && break; sleep 0.5; done)"
ids="$($S ps -q --no-trunc --filter label=com.docker.compose.project=vmproj | tr '\n' ' ')"
timeout 120 systemctl --user stop skiff-compose-vm.service
check "compose under systemd: stop leaves no container of the project" "" "$($S ps -a --filter label=com.docker.compose.project=vmproj --format '{{.Names}}')"
check "compose under systemd: stop leaves no network of the project" "" "$($S network ls --format '{{.Name}}' | grep '^vmproj_' || true)"
check "compose under systemd: the named volume is kept" vmproj_data "$($S volume ls --format '{{.Name}}' | grep '^vmproj_' || true)"
left=0
for id in $ids; do pgrep -f "$id" >/dev/null && left=$((left + 1)); done
check "compose under systemd: no monitor of the project is left (of: ${ids:-none})" 0 "$left"
echo "failed: $failed"
exit "$failed"
