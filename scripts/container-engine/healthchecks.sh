#!/usr/bin/env bash
# Runs the healthchecks of running containers, as Docker's engine does: podman leaves them to
# systemd timers, and without systemd a container's health stays "starting" for ever, so
# `depends_on: condition: service_healthy` would wait for ever. container-engine.sh starts this
# loop beside the engine (argument: the engine's socket); it lives until the machine stops.
#
# Through the engine's API (curl, not a podman process per check: that cost ~0.2 s of CPU each).
# A container is checked at its own interval until it is healthy, then every 30 s or its
# interval if longer: a healthy stack costs little, and a restarted container (health "starting"
# again) is checked at its interval until it is back.
set -u
socket="${1:-/var/run/docker.sock}"
healthy_every_s=30

api() { curl -fsS -m 60 --unix-socket "$socket" "http://podman/v4.0.0/libpod/$1" 2>/dev/null; }

declare -A interval_of # container id -> its healthcheck interval in seconds
declare -A next_due    # container id -> epoch seconds of its next check
declare -A health_of   # container id -> its health when that check was planned

while true; do
  now=$(date +%s)
  declare -A seen=()
  # Running containers that have a healthcheck (their Status is its state), and that state.
  while read -r id health; do
    [ -n "$id" ] || continue
    seen[$id]=1
    if [ -z "${interval_of[$id]:-}" ]; then
      interval_ns=$(api "containers/$id/json" | jq -r '.Config.Healthcheck.Interval // 0')
      interval_s=$((${interval_ns:-0} / 1000000000))
      [ "$interval_s" -ge 1 ] || interval_s=30 # Docker's default interval
      interval_of[$id]=$interval_s
    fi
    # Due, or its health changed since (a restart makes it "starting" again): check now.
    if [ "${next_due[$id]:-0}" -le "$now" ] || [ "${health_of[$id]:-}" != "$health" ]; then
      every=${interval_of[$id]}
      [ "$health" = healthy ] && [ "$every" -lt "$healthy_every_s" ] && every=$healthy_every_s
      next_due[$id]=$((now + every))
      health_of[$id]=$health
      api "containers/$id/healthcheck" >/dev/null &
    fi
  done < <(api 'containers/json' | jq -r '.[] | select(.State == "running" and .Status != "") | "\(.Id) \(.Status)"')
  for id in "${!next_due[@]}"; do
    [ -n "${seen[$id]:-}" ] || unset "next_due[$id]" "interval_of[$id]" "health_of[$id]"
  done
  unset seen
  sleep 2
done
