#!/usr/bin/env bash
# Scale: unruly holds N (default 10,000) concurrent keep-alive connections against
# nginx on 127.0.0.1 and reports its peak RSS (goal: under 300 MiB).
#
#   bench/scale.sh                   # 10,000 connections, 10 s
#   CONNECTIONS=20000 DURATION=5 bench/scale.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/common.sh"
need_packages
build_unruly
PORT=${PORT:-18081}
CONNECTIONS=${CONNECTIONS:-10000}
DURATION=${DURATION:-10}
start_nginx "$PORT"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
out=$(mktemp)
/usr/bin/time -f "%M %U %S" -o "$out.time" "$UNRULY" load "http://127.0.0.1:$PORT/index.html" \
    -c "$CONNECTIONS" -d "${DURATION}s" --threads 1 --json -q > "$out"
python3 - "$out" "$CONNECTIONS" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
rss_kib, user, sys_ = open(sys.argv[1] + ".time").read().split()[-3:]
o = report["stats"]["overall"]
errors = {k: v for k, v in o["errors_by_class"].items() if v}
print(f"{sys.argv[2]} connections, {report['duration_s']:.1f}s: {o['requests']} requests, "
      f"{o['rps']:.0f}/s, p50 {o['latency_ms']['p50']:.2f} ms, p99 {o['latency_ms']['p99']:.2f} ms, "
      f"errors {errors or 0}")
print(f"peak RSS {int(rss_kib) / 1024:.1f} MiB (goal < 300 MiB); CPU {float(user) + float(sys_):.2f} s")
PY
rm -f "$out" "$out.time"
