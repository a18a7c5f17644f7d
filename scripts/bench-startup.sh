#!/usr/bin/env bash
# Time from starting `callpark-server --demo` to its /healthz answering, N runs
# (default 7), printed sorted with the median: first starts (a new, empty data
# directory each time: migrations and the demo tenant's argon2 hashes) and restarts
# (an existing data directory). Release build; 127.0.0.1 only; each server is
# stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
cargo build --release --quiet -p callpark-service
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
measure() { # $1: label, $2: "fresh" for a new data directory per run
times=()
for run in $(seq "$runs"); do
  dir="$data/shared"
  [ "$2" = fresh ] && dir="$data/fresh-$run"
  start=$(date +%s%N)
  CALLPARK_LOG=warn ./target/release/callpark-server --demo --data-dir "$dir" --listen "127.0.0.1:$port" &
  pid=$!
  for _ in $(seq 2000); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.005
  done
  end=$(date +%s%N)
  kill -TERM "$pid"
  wait "$pid" || true
  times+=($(( (end - start) / 1000000 )))
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
echo "$1, startup to healthy, ms: $(echo $sorted)"
echo "$1, median: $(printf '%s\n' $sorted | sed -n "$(( (runs + 1) / 2 ))p") ms"
}
measure "first start" fresh
measure "restart" shared
