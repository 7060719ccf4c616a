#!/usr/bin/env bash
# The cost of `unruly proxy` (no toxics) in front of nginx, and the accuracy of its
# latency toxic. Everything on 127.0.0.1; wrk is the client.
#
#   bench/proxy.sh                  # 5 rounds of 3 x 2 runs of 5 s, ~2.8 minutes
#   RUNS=3 DURATION=3 PIN=0 bench/proxy.sh
#   PORT=18280 PROXY_PORT=18281 API_PORT=18474 bench/proxy.sh   # the defaults
#   UNRULY=target/release/unruly bench/proxy.sh   # no build
#
# Each round runs, in turns (direct first in odd rounds, proxied first in even ones, so
# that neither always gets the warmer machine):
#   CPU-bound      wrk -t1 -c32: one wrk thread keeps 32 requests in flight, enough to
#                  keep one core busy with wrk alone; wrk, nginx (one worker) and the
#                  proxy then share the machine's cores, so the proxied figure measures
#                  the proxy's CPU cost as much as its design.
#   pinned         the same, with wrk and nginx's worker pinned (taskset) to cpu 0 and
#                  the proxy to cpu 1, in both the direct and the proxied runs: client and
#                  server get the same core either way and the proxy a core of its own,
#                  as a sidecar with headroom would; the ratio then says whether the
#                  proxy keeps up, not who wins the fight for 2 cores. PIN=0 skips it.
#   latency-bound  wrk -t1 -c1 --latency: one request at a time, nothing saturates a
#                  core; requests/s is 1/round trip, and the p50 difference is the
#                  latency the proxy adds per request (two more loopback hops and its
#                  own work).
# Then a 100 ms downstream latency toxic is added through the API and one connection is
# measured for TOXIC_DURATION seconds; the toxic is removed afterwards.
# The CPU of nginx's worker and of the proxy during the CPU-bound runs is read from
# /proc/PID/stat (all threads), wrk's from /usr/bin/time, in % of one core.
#
# Goals (from the issue): proxied/direct throughput >= 0.9, added p50 <= 50 us,
# latency toxic 100 ms +- 1 ms.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/common.sh"
RUNS=${RUNS:-5}
DURATION=${DURATION:-5}
TOXIC_DURATION=${TOXIC_DURATION:-5}
PORT=${PORT:-18280}
PROXY_PORT=${PROXY_PORT:-18281}
API_PORT=${API_PORT:-18474}
for port in "$PORT" "$PROXY_PORT" "$API_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "127.0.0.1:$port is taken; give other PORT / PROXY_PORT / API_PORT" >&2
        exit 1
    fi
done
need_packages
# UNRULY=/path/to/unruly skips the build (e.g. to measure a binary built earlier).
if [ -n "${UNRULY:-}" ]; then [ -x "$UNRULY" ] || { echo "UNRULY=$UNRULY: not executable" >&2; exit 1; }; else build_unruly; fi
start_nginx "$PORT"

API="http://127.0.0.1:$API_PORT"
DIRECT="http://127.0.0.1:$PORT/index.html"
PROXIED="http://127.0.0.1:$PROXY_PORT/index.html"
WORK=$(mktemp -d /tmp/unruly-bench-proxy.XXXXXX)
PROXY_PID=""
cleanup() {
    [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null
    kill "$NGINX_PID" 2>/dev/null
    wait "$NGINX_PID" 2>/dev/null
    rm -rf "$NGINX_DIR" "$WORK"
}
trap cleanup EXIT   # replaces start_nginx's trap, and does its work too

# api METHOD PATH [BODY] EXPECTED_STATUS: calls the control API; on another status,
# prints the request and the response and stops.
api() {
    local method=$1 path=$2 body=$3 expected=$4 status
    status=$(curl -sS --max-time 5 -o "$WORK/api.out" -w '%{http_code}' -X "$method" \
        ${body:+-H 'Content-Type: application/json' -d "$body"} "$API$path") || status=000
    if [ "$status" != "$expected" ]; then
        echo "control API: $method $path ${body:+$body }-> $status (expected $expected)" >&2
        cat "$WORK/api.out" >&2 2>/dev/null; echo >&2
        exit 1
    fi
}

"$UNRULY" proxy --api "127.0.0.1:$API_PORT" --seed 1 >"$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
for _ in $(seq 50); do
    curl -sf --max-time 1 -o /dev/null "$API/version" 2>/dev/null && break
    kill -0 "$PROXY_PID" 2>/dev/null || { cat "$WORK/proxy.log" >&2; exit 1; }
    sleep 0.1
done
api POST /proxies "{\"name\":\"nginx\",\"listen\":\"127.0.0.1:$PROXY_PORT\",\"upstream\":\"127.0.0.1:$PORT\"}" 201
NGINX_WORKER=$(pgrep -P "$NGINX_PID" | head -1)
TICK=$(getconf CLK_TCK)

# ticks PID: user + system CPU ticks of a process so far (all its threads).
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

# run_wrk NAME ARGS...: runs wrk, keeps its output in $WORK/NAME, sets RPS, P50, P99 (us)
# and CPU_WRK, CPU_NGINX, CPU_PROXY (% of one core over the run).
run_wrk() {
    local name=$1 n0 p0 n1 p1 t0 t1
    shift
    n0=$(ticks "$NGINX_WORKER"); p0=$(ticks "$PROXY_PID"); t0=$(date +%s.%N)
    /usr/bin/time -f '%U %S' -o "$WORK/$name.time" \
        timeout $((DURATION + TOXIC_DURATION + 20)) ${WRK_CPU:+taskset -c "$WRK_CPU"} wrk "$@" >"$WORK/$name"
    t1=$(date +%s.%N); n1=$(ticks "$NGINX_WORKER"); p1=$(ticks "$PROXY_PID")
    if grep -qE 'Non-2xx|Socket errors' "$WORK/$name"; then
        echo "  wrk $name: $(grep -E 'Non-2xx|Socket errors' "$WORK/$name" | tr -s ' ' | tr '\n' ' ')" >&2
    fi
    RPS=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$WORK/$name")
    P50=$(percentile 50 "$WORK/$name")
    P99=$(percentile 99 "$WORK/$name")
    CPU_WRK=$(awk -v a="$t0" -v b="$t1" 'END { printf "%.0f", 100 * ($1 + $2) / (b - a) }' "$WORK/$name.time")
    CPU_NGINX=$(awk -v d=$((n1 - n0)) -v k="$TICK" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", 100 * d / k / (b - a) }')
    CPU_PROXY=$(awk -v d=$((p1 - p0)) -v k="$TICK" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", 100 * d / k / (b - a) }')
}

# percentile P FILE: wrk's --latency line for P%, in microseconds ("-" without it).
percentile() {
    awk -v p="$1%" '$1 == p {
        v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
        f = (u == "us") ? 1 : (u == "ms") ? 1000 : (u == "s") ? 1000000 : 0
        printf "%.0f", v * f; found = 1 }
        END { if (!found) printf "-" }' "$2"
}

# median VALUES...
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.0f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

NCPU=$(nproc)
PIN=${PIN:-1}; [ "$NCPU" -ge 2 ] || PIN=0
SETTINGS="cpu"; [ "$PIN" = 1 ] && SETTINGS="cpu pin"; SETTINGS="$SETTINGS lat"
# pin on|off: wrk and nginx's worker on cpu 0, the proxy (all its threads) on cpu 1; or
# everything back on every core.
pin() {
    if [ "$1" = on ]; then
        taskset -a -p -c 0 "$NGINX_WORKER" >/dev/null; taskset -a -p -c 1 "$PROXY_PID" >/dev/null
        WRK_CPU=0
    else
        taskset -a -p -c "0-$((NCPU - 1))" "$NGINX_WORKER" >/dev/null
        taskset -a -p -c "0-$((NCPU - 1))" "$PROXY_PID" >/dev/null
        WRK_CPU=""
    fi
}
WRK_CPU=""
label() {
    case $1 in
        cpu) echo "CPU-bound, unpinned (wrk -t1 -c32; wrk, nginx, proxy share $NCPU cores)" ;;
        pin) echo "CPU-bound, proxy on its own core (-c32; wrk+nginx on cpu0, proxy on cpu1)" ;;
        lat) echo "latency-bound (wrk -t1 -c1 --latency; no core saturated)" ;;
    esac
}

echo "unruly proxy vs direct: nginx :$PORT, proxy :$PROXY_PORT, API :$API_PORT; $NCPU cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$RUNS rounds of ${DURATION}s runs, direct and proxied in turns; cpu = % of one core, wrk/nginx worker/proxy"
# Warm both paths (connections, caches, the proxy's runtime) before the first figures.
run_wrk warm-direct -t1 -c32 -d1s "$DIRECT"
run_wrk warm-proxied -t1 -c32 -d1s "$PROXIED"

: >"$WORK/results"
for run in $(seq "$RUNS"); do
    if [ $((run % 2)) -eq 1 ]; then order="direct proxied"; else order="proxied direct"; fi
    echo "round $run/$RUNS"
    for setting in $SETTINGS; do
        [ "$setting" = pin ] && pin on
        line=""
        for side in $order; do
            url=$DIRECT; [ "$side" = proxied ] && url=$PROXIED
            if [ "$setting" = lat ]; then
                run_wrk "$setting-$side-$run" -t1 -c1 -d"${DURATION}s" --latency "$url"
                printf -v figures '%-8s %6d req/s  p50 %4s us  p99 %5s us' "$side" "$RPS" "$P50" "$P99"
            else
                run_wrk "$setting-$side-$run" -t1 -c32 -d"${DURATION}s" "$url"
                printf -v figures '%-8s %6d req/s  cpu %3s/%3s/%3s' "$side" "$RPS" "$CPU_WRK" "$CPU_NGINX" "$CPU_PROXY"
            fi
            line="$line    $figures"
            echo "$setting $side $RPS $P50 $P99 $CPU_WRK $CPU_NGINX $CPU_PROXY" >>"$WORK/results"
        done
        [ "$setting" = pin ] && pin off
        printf '  %-4s%s\n' "$setting" "$line"
    done
done

# The latency toxic: 100 ms on the responses, one connection.
api POST /proxies/nginx/toxics '{"name":"bench_latency","type":"latency","stream":"downstream","attributes":{"latency":100,"jitter":0}}' 200
run_wrk toxic -t1 -c1 -d"${TOXIC_DURATION}s" --latency "$PROXIED"
TOXIC_P50=$P50 TOXIC_P99=$P99 TOXIC_N=$(awk '/requests in/ { print $1 }' "$WORK/toxic")
api DELETE /proxies/nginx/toxics/bench_latency '' 204

# med SETTING SIDE FIELD: the median of a column of the results (3 rps, 4 p50, 5 p99,
# 6/7/8 cpu of wrk/nginx/proxy).
med() { median $(awk -v s="$1" -v d="$2" -v f="$3" '$1 == s && $2 == d { print $f }' "$WORK/results"); }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { if awk "BEGIN { exit !($1) }"; then echo "met"; else echo "NOT met"; fi; }
pd=$(med lat direct 4); pp=$(med lat proxied 4); added=$((pp - pd))
toxic_err=$(awk -v t="$TOXIC_P50" -v p="$pp" 'BEGIN { printf "%+.2f", (t - p - 100000) / 1000 }')
toxic_err_direct=$(awk -v t="$TOXIC_P50" -v d="$pd" 'BEGIN { printf "%+.2f", (t - d - 100000) / 1000 }')

echo
echo "== summary: medians of $RUNS rounds of ${DURATION}s; $NCPU cores; load average now $(cut -d' ' -f1-3 /proc/loadavg) =="
for setting in $SETTINGS; do
    bd=$(med "$setting" direct 3); bp=$(med "$setting" proxied 3); r=$(ratio "$bp" "$bd")
    echo "$(label "$setting")"
    if [ "$setting" = lat ]; then
        printf '  throughput  direct %6d  proxied %6d req/s  ratio %s  (1/round trip, not the goal'"'"'s setting)\n' "$bd" "$bp" "$r"
        printf '  p50         direct %6d  proxied %6d us     added %d us  (goal <= 50 us: %s)\n' \
            "$pd" "$pp" "$added" "$(verdict "$added <= 50")"
    else
        printf '  throughput  direct %6d  proxied %6d req/s  ratio %s  (goal >= 0.9: %s)\n' \
            "$bd" "$bp" "$r" "$(verdict "$r >= 0.9")"
        printf '  cpu         direct %s/%s/%s  proxied %s/%s/%s  (%% of a core: wrk/nginx/proxy)\n' \
            "$(med "$setting" direct 6)" "$(med "$setting" direct 7)" "$(med "$setting" direct 8)" \
            "$(med "$setting" proxied 6)" "$(med "$setting" proxied 7)" "$(med "$setting" proxied 8)"
        printf '  cpu/request proxied: nginx %s us, proxy %s us  (medians of cpu / medians of req/s)\n' \
            "$(awk -v c="$(med "$setting" proxied 7)" -v r="$bp" 'BEGIN { printf "%.1f", c * 1e4 / r }')" \
            "$(awk -v c="$(med "$setting" proxied 8)" -v r="$bp" 'BEGIN { printf "%.1f", c * 1e4 / r }')"
    fi
done
echo "latency toxic 100 ms downstream (wrk -t1 -c1, ${TOXIC_DURATION}s, $TOXIC_N requests)"
printf '  p50 %.2f ms  p99 %.2f ms;  p50 - 100 ms: %s ms over the proxied p50, %s ms over direct  (goal +-1 ms: %s)\n' \
    "$(awk -v v="$TOXIC_P50" 'BEGIN { print v / 1000 }')" "$(awk -v v="$TOXIC_P99" 'BEGIN { print v / 1000 }')" \
    "$toxic_err" "$toxic_err_direct" "$(verdict "$toxic_err <= 1 && $toxic_err >= -1")"
