#!/usr/bin/env bash
# Time from starting `callpark-server --demo` to its /healthz answering, N runs
# (default 7), printed sorted with the median. Release build; 127.0.0.1 only; each
# server is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
cargo build --release --quiet -p callpark-service
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
times=()
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  CALLPARK_LOG=warn ./target/release/callpark-server --demo --listen "127.0.0.1:$port" &
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
echo "startup to healthy, ms: $(echo $sorted)"
echo "median: $(printf '%s\n' $sorted | sed -n "$(( (runs + 1) / 2 ))p") ms"
