#!/usr/bin/env bash
# What watching the target costs unruly: the same open-model run against nginx (a fixed
# RATE of requests/s for DURATION seconds, so the work is the same) without watching, and
# with everything watched: --watch-pid (nginx's worker, sampled every 250 ms), --watch-log
# (nginx's error log, followed), --scrape (a static Prometheus text file nginx serves, read
# every second) and --metrics-addr (unruly's own exposition). unruly's CPU (user + system)
# comes from /usr/bin/time. Everything on 127.0.0.1.
#
#   bench/watch.sh                      # 5 runs of each, in turns, ~2 minutes
#   RUNS=3 RATE=2000 DURATION=10 bench/watch.sh
#   UNRULY=target/release/unruly bench/watch.sh   # no build
#
# Prints each run, then the medians and the overhead: extra CPU in % and in ms of CPU per
# second of run (a difference of two noisy figures), and the CPU of the watching threads
# themselves, read from /proc just before the load ends (exact, whatever the noise).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/common.sh"
RUNS=${RUNS:-5}
RATE=${RATE:-5000}
DURATION=${DURATION:-10}
PORT=${PORT:-18380}
METRICS_PORT=${METRICS_PORT:-18381}

need_packages
[ -n "${UNRULY:-}" ] || build_unruly
start_nginx "$PORT"
# A Prometheus exposition for --scrape to read (nginx serves it as a file).
cat > "$NGINX_DIR/www/metrics" <<'PROM'
# TYPE app_requests_total counter
app_requests_total{code="200"} 1027
# TYPE app_memory_bytes gauge
app_memory_bytes 4.2e+07
PROM
chmod 644 "$NGINX_DIR/www/metrics"
touch "$NGINX_DIR/error.log"
WORKER=$(pgrep -P "$NGINX_PID" | head -1)
WORK=$(mktemp -d /tmp/unruly-bench-watch.XXXXXX)
trap 'kill $NGINX_PID 2>/dev/null; rm -rf "$NGINX_DIR" "$WORK"' EXIT
cat > "$WORK/scenario.toml" <<TOML
[target]
url = "http://127.0.0.1:$PORT"

[[operation]]
name = "GET /index.html"
path = "/index.html"

[workload]
model = "open"
connections = 64
threads = 1

[[workload.stage]]
rate = $RATE
duration = "${DURATION}s"
TOML

# run_once MODE: prints "user+system seconds" of one run.
run_once() {
    local extra=()
    if [ "$1" = watched ]; then
        extra=(--watch-pid "$WORKER" --watch-log "$NGINX_DIR/error.log"
               --scrape /metrics --metrics-addr "127.0.0.1:$METRICS_PORT")
    fi
    /usr/bin/time -f "%U %S" -o "$WORK/time" "$UNRULY" run "$WORK/scenario.toml" -q \
        --report-dir "$WORK/report-$1" "${extra[@]}" >/dev/null 2>&1 &
    local runner=$!
    if [ "$1" = watched ]; then
        # Just before the load ends, the CPU of the watching threads themselves (process
        # sampler, log follower, scraper, metrics server), from /proc/PID/task/*/schedstat.
        sleep $((DURATION - 1))
        thread_cpu "$(pgrep -P "$runner" -x unruly | head -1)" > "$WORK/threads"
    fi
    wait "$runner" || true
    awk '{ printf "%.3f\n", $1 + $2 }' "$WORK/time"
}

# thread_cpu PID: milliseconds of CPU of PID's watching threads, one "name ms" a line.
thread_cpu() {
    for task in /proc/"$1"/task/*; do
        local name
        name=$(cat "$task/comm" 2>/dev/null) || continue
        case "$name" in
        unruly-watch-*|unruly-metrics|unruly-scrape|unruly-log-foll*)
            # schedstat's first field: nanoseconds on a CPU (stat's ticks are too coarse).
            awk -v n="$name" '{ printf "%s %.2f\n", n, $1 / 1e6 }' "$task/schedstat" ;;
        esac
    done
}

plain=(); watched=(); threads=()
for round in $(seq "$RUNS"); do
    if [ $((round % 2)) = 1 ]; then order=(plain watched); else order=(watched plain); fi
    for mode in "${order[@]}"; do
        cpu=$(run_once "$mode")
        if [ "$mode" = plain ]; then plain+=("$cpu"); else watched+=("$cpu"); fi
        samples=$(python3 -c "import json;r=json.load(open('$WORK/report-$mode/report.json'));w=r.get('watch') or {};print(len(w.get('samples',[])), r['stats']['overall']['requests'])")
        echo "round $round $mode: ${cpu} s CPU (samples, requests: $samples)"
        if [ "$mode" = watched ]; then
            threads_ms=$(awk '{ s += $2 } END { printf "%.1f", s }' "$WORK/threads")
            threads+=("$threads_ms")
            echo "    watching threads: $(tr '\n' ' ' < "$WORK/threads")"
        fi
    done
done
python3 - "${plain[*]}" "${watched[*]}" "$DURATION" "${threads[*]}" <<'PY'
import statistics, sys
plain = [float(x) for x in sys.argv[1].split()]
watched = [float(x) for x in sys.argv[2].split()]
seconds = float(sys.argv[3])
threads = [float(x) for x in sys.argv[4].split()]
p, w = statistics.median(plain), statistics.median(watched)
print(f"median CPU of unruly: {p:.3f} s plain, {w:.3f} s watched over {seconds:.0f} s of load")
print(f"watching costs {100 * (w - p) / p:+.1f}% CPU, {1000 * (w - p) / seconds:+.1f} ms of CPU per second of run")
t = statistics.median(threads)
print(f"the watching threads themselves: {t:.1f} ms of CPU over {seconds - 1:.0f} s ({t / (seconds - 1):.2f} ms per second; "
      f"{1000 * t / ((seconds - 1) * 4):.0f} us per 250 ms sample, scrape and follow included)")
PY
