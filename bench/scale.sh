#!/usr/bin/env bash
# Scale: unruly holds N (default 10,000) concurrent keep-alive connections against
# nginx on 127.0.0.1 and reports its peak RSS (goal: under 300 MiB).
#   hold:      open model, N connections carrying N requests/s (each connection
#              busy about once a second) for HOLD seconds (default 45: past the
#              point where hyper's per-connection queues reach their steady size)
#   saturate:  closed model, every connection always busy, for SATURATE seconds
#
#   bench/scale.sh
#   CONNECTIONS=20000 HOLD=20 SATURATE=5 bench/scale.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/common.sh"
need_packages
build_unruly
PORT=${PORT:-18081}
CONNECTIONS=${CONNECTIONS:-10000}
start_nginx "$PORT"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
out=$(mktemp)

measure() { # measure LABEL ARGS...
    local label=$1; shift
    /usr/bin/time -f "%M %U %S" -o "$out.time" "$UNRULY" load "http://127.0.0.1:$PORT/index.html" \
        -c "$CONNECTIONS" --threads 1 --json -q "$@" > "$out"
    python3 - "$out" "$CONNECTIONS" "$label" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
rss_kib, user, sys_ = open(sys.argv[1] + ".time").read().split()[-3:]
o = report["stats"]["overall"]
errors = {k: v for k, v in o["errors_by_class"].items() if v}
print(f"{sys.argv[3]:9} {sys.argv[2]} connections, {report['duration_s']:.0f}s: {o['requests']} requests, "
      f"{o['rps']:.0f}/s, p50 {o['latency_ms']['p50']:.2f} ms, p99 {o['latency_ms']['p99']:.2f} ms, "
      f"errors {errors or 0}, missed {report['stats']['missed_arrivals']}")
print(f"{'':9} peak RSS {int(rss_kib) / 1024:.1f} MiB (goal < 300 MiB); CPU {float(user) + float(sys_):.2f} s")
PY
}

measure hold --rate "$CONNECTIONS" -d "${HOLD:-45}s"
measure saturate -d "${SATURATE:-10}s"
rm -f "$out" "$out.time"
