#!/usr/bin/env bash
# The park service under load (issue 3's figures): release build, the server pinned
# to core 0 and the load generator to core 1, 127.0.0.1 only, a fresh data directory
# per scenario, every server stopped by PID.
#
#   scripts/bench-load.sh            # the signaling scenarios: latency throughput idle
#   scripts/bench-load.sh latency    # or: throughput, idle, reconnect, media-idle, media-parked, media-bridged
#
# The media scenarios take CALLS (default 2000 parked, 1000 bridged) and SECONDS_MEASURED (20); SILENT=1 makes parked callers send nothing.
#
# Each scenario prints its figures; docs/benchmarks.md records them.
set -euo pipefail
cd "$(dirname "$0")/.."
scenarios=("${@:-latency throughput idle}")
cargo build --release --quiet -p callpark-service -p callpark-loadgen
# 10,000 connections need 10,000 descriptors on each side (each process has its own);
# 10,000 media devices need twice that in the load generator (a WebSocket and a UDP
# socket each). Root may raise the hard limit; others get what it allows.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 10100 ]; then
  echo "open-file limit $(ulimit -n) is below 10100: the idle scenario will fail" >&2
fi
work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
password=load-admin-password

start_server() { # $1: data directory; $2: the port (default: a free one)
  port=${2:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
  CALLPARK_LOG=warn taskset -c 0 ./target/release/callpark-server --data-dir "$1" \
    --listen "127.0.0.1:$port" --admin-password "$password" &
  server_pid=$!
  for _ in $(seq 1000); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return
    sleep 0.01
  done
  echo "the server did not come up" >&2
  exit 1
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=
}

load() { # the load generator on core 1
  taskset -c 1 ./target/release/callpark-load --server "http://127.0.0.1:$port" \
    --admin-password "$password" "$@"
}

cpu_ticks() { # user + system time of a process, in clock ticks
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# Idle devices with their peer connections up. Each device holds a WebSocket and a
# UDP socket, and a process here may have only 20,000 descriptors: LOADERS processes
# (default 2) share the devices. The server's CPU is measured here, over
# SECONDS_MEASURED once every device of every loader is connected.
media_idle() {
  local devices=${DEVICES:-10000} loaders=${LOADERS:-2} window=${SECONDS_MEASURED:-20}
  local logs=() pids=()
  for n in $(seq "$loaders"); do
    logs+=("$work/media-idle-$n.log")
    load media-idle --devices $((devices / loaders)) --seconds $((window + 60)) \
      --server-pid "$server_pid" > "${logs[-1]}" 2>&1 &
    pids+=($!)
  done
  local started=$SECONDS
  until [ "$(cat "${logs[@]}" | grep -c 'idle devices connected')" -ge "$loaders" ]; do
    if [ $((SECONDS - started)) -gt 600 ]; then cat "${logs[@]}"; echo "devices did not connect" >&2; exit 1; fi
    sleep 1
  done
  sleep 2
  local hz before after rss
  hz=$(getconf CLK_TCK)
  before=$(cpu_ticks "$server_pid")
  sleep "$window"
  after=$(cpu_ticks "$server_pid")
  rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$server_pid/status")
  echo "media-idle: $devices idle devices with peer connections up: server $(awk -v t=$((after - before)) -v hz="$hz" -v w="$window" 'BEGIN { printf "%.2f", 100 * t / hz / w }') % of a core over ${window} s, RSS $((rss / 1024)) MiB"
  for pid in "${pids[@]}"; do wait "$pid" || true; done
  cat "${logs[@]}"
}

# DEVICES (default 10,000) signed-in devices lose the service to a restart (RESTART=term,
# the default, or kill) and come back as the apps do. The loader reports when the
# last one was greeted again; the restarted server's CPU is sampled every 100 ms
# until then (the peak 100 ms and the average), and its peak RSS is VmHWM.
reconnect() {
  local devices=${DEVICES:-10000} log="$work/reconnect.log" started=$SECONDS
  load reconnect --connections "$devices" --users 100 > "$log" 2>&1 &
  local loader=$!
  until grep -q 'restart the service now' "$log"; do
    if [ $((SECONDS - started)) -gt 600 ] || ! kill -0 "$loader" 2>/dev/null; then cat "$log"; echo "devices did not connect" >&2; exit 1; fi
    sleep 1
  done
  sleep 2
  if [ "${RESTART:-term}" = kill ]; then kill -KILL "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=; else stop_server; fi
  start_server "$work/reconnect" "$port"
  local hz ticks last peak=0 samples=0 first now
  hz=$(getconf CLK_TCK)
  first=$(cpu_ticks "$server_pid"); last=$first
  while kill -0 "$loader" 2>/dev/null; do
    sleep 0.1
    now=$(cpu_ticks "$server_pid")
    ticks=$((now - last)); last=$now; samples=$((samples + 1))
    [ "$ticks" -gt "$peak" ] && peak=$ticks
    # The loader exits once every device is back (or gives up).
    grep -q 'devices back' "$log" && break
  done
  wait "$loader" || { cat "$log"; exit 1; }
  local hwm rss
  hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$server_pid/status")
  rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$server_pid/status")
  cat "$log"
  echo "reconnect (${RESTART:-term}): server CPU peak $(awk -v t="$peak" -v hz="$hz" 'BEGIN { printf "%.0f", 100 * t / hz / 0.1 }') % of a core in a 100 ms slice, $(awk -v t=$((last - first)) -v hz="$hz" -v n="$samples" 'BEGIN { printf "%.0f", 100 * t / hz / (n * 0.1) }') % on average until all were back; peak RSS $((hwm / 1024)) MiB (now $((rss / 1024)) MiB)"
}

for scenario in ${scenarios[*]}; do
  echo "== $scenario"
  start_server "$work/$scenario"
  case "$scenario" in
    latency) load latency --parks-per-second 1000 --lanes 100 --seconds 20 ;;
    throughput) load throughput --lanes "${LANES:-16}" --seconds 20 ;;
    idle) load idle --connections 10000 --users 100 --server-pid "$server_pid" ;;
    media-parked) load media-parked --calls "${CALLS:-2000}" --seconds "${SECONDS_MEASURED:-20}" --server-pid "$server_pid" ${SILENT:+--silent-callers} ;;
    media-idle) media_idle ;;
    reconnect) reconnect ;;
    media-bridged) load media-bridged --calls "${CALLS:-1000}" --seconds "${SECONDS_MEASURED:-20}" --server-pid "$server_pid" ;;
    *) echo "unknown scenario $scenario (latency, throughput, idle, reconnect, media-idle, media-parked, media-bridged)" >&2; exit 2 ;;
  esac
  stop_server
done
