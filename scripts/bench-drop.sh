#!/usr/bin/env bash
# Audio gap through a signaling drop (issue 21): RUNS runs (default 5) of the
# end-to-end test that cuts a call's signaling for 250 ms, 2 s and 20 s through a TCP relay
# (crates/client/tests/reconnect.rs; real clients, str0m, Opus, tone audio; the
# service in process and the callpark-server binary as a child process). Each run
# prints, per host and drop, the longest gap in each direction's tone from the cut
# until it is heard steadily again; this prints every run's lines and the median
# gap per host, drop and direction.
#
#   scripts/bench-drop.sh          # RUNS=5
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
lines=$(mktemp)
trap 'rm -f "$lines"' EXIT
for run in $(seq "$runs"); do
  cargo nextest run -p callpark-client --test reconnect --no-capture \
    -E 'test(a_connected_call_rides_out_signaling_drops)' 2>&1 |
    { grep -E '^(InProcess|Process), signaling drop of' || true; } | tee -a "$lines"
done
python3 - "$lines" <<'EOF'
import re, statistics, sys
gaps = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\w+), signaling drop of (\S+): longest gap in Bob's tone at Carol "
                 r"([0-9.]+)(µs|ms|s), .*; in Carol's at Bob ([0-9.]+)(µs|ms|s),", line)
    if not m:
        continue
    to_s = lambda value, unit: float(value) / {"µs": 1e6, "ms": 1e3, "s": 1}[unit]
    gaps.setdefault(f"{m.group(2)} ({m.group(1)})", []).append(
        (to_s(m.group(3), m.group(4)), to_s(m.group(5), m.group(6))))
for drop, pairs in gaps.items():
    at_peer = statistics.median(p[0] for p in pairs)
    at_dropped = statistics.median(p[1] for p in pairs)
    print(f"drop {drop}: median audio gap {at_peer*1000:.0f} ms at the other party, "
          f"{at_dropped*1000:.0f} ms at the device that dropped ({len(pairs)} runs)")
EOF
