#!/usr/bin/env bash
# Hold music back after a service restart (issue 21): RUNS runs (default 20) of
# SIGTERM and of kill -9 of the real callpark-server with a call parked, restarted at
# once; prints the median and maximum time from the signal to the first hold-music
# frame the parked caller plays again (crates/client/benches/restart.rs).
#
#   scripts/bench-restart.sh          # RUNS=20
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p callpark-service --bin callpark-server
cargo bench -q --profile dev -p callpark-client --bench restart
