#!/usr/bin/env bash
# unruly explore vs Schemathesis on the demo shop (`unruly demo --serve`), same time budget
# each, a fresh demo instance per tool and run; prints distinct bugs found (distinct
# (operation, finding kind) pairs), cases (HTTP requests) and cases/s, medians over RUNS.
#
#   bench/vs-schemathesis.sh                 # 30 s budget per tool, 1 run
#   BUDGET=10 RUNS=3 bench/vs-schemathesis.sh
#   ONLY=schemathesis bench/vs-schemathesis.sh
#
# Environment:
#   BUDGET=30          seconds per tool (Schemathesis --max-time, unruly --duration)
#   RUNS=1             repeats; medians are printed
#   WORKERS=2          Schemathesis workers (2 = its `auto` on 2 cores; 1, 2, 4 measured alike)
#   ONLY=              "schemathesis" or "unruly" to run one side
#   COUNT_AT_SERVER=   1: put a counting proxy (bench/vs_schemathesis.py proxy) in front of
#                      the demo and count requests there instead of from each tool's report
#                      (honest, but the Python proxy caps throughput: a cross-check only)
#   OUT=               where reports go (default: a new directory under target/)
#   VENV=              Schemathesis venv (default ~/.cache/unruly-bench/venv)
#   UNRULY=            an unruly binary to use instead of building target/release/unruly
#   PLANTED=           the bugs.rs to read PLANTED_BUGS from (default: the working tree's)
#   SCHEMATHESIS_ARGS= extra arguments for `st run`
# Everything listens on and targets 127.0.0.1 only.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/common.sh"
HELPER="$ROOT/bench/vs_schemathesis.py"
BUDGET=${BUDGET:-30}
RUNS=${RUNS:-1}
WORKERS=${WORKERS:-2}
ONLY=${ONLY:-}
VENV=${VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/unruly-bench/venv}
OUT=${OUT:-$ROOT/target/bench-vs-schemathesis/$(date +%Y%m%dT%H%M%S)}

# Schemathesis into its own venv, once.
if [ "$ONLY" != unruly ] && [ ! -x "$VENV/bin/st" ]; then
    echo "installing schemathesis into $VENV" >&2
    python3 -m venv "$VENV" || { echo "python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 2; }
    "$VENV/bin/pip" install -q --upgrade pip >/dev/null
    "$VENV/bin/pip" install -q schemathesis
fi
if [ -n "${UNRULY:-}" ]; then
    [ -x "$UNRULY" ] || { echo "UNRULY=$UNRULY is not an executable" >&2; exit 2; }
else
    build_unruly
fi
mkdir -p "$OUT"

# Processes this script started; killed on exit, whatever the reason.
DEMO_PID= PROXY_PID= TOOL_PID=
stop_pid() { if [ -n "$1" ]; then kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; fi; }
cleanup() { stop_pid "$TOOL_PID"; stop_pid "$PROXY_PID"; stop_pid "$DEMO_PID"; TOOL_PID= PROXY_PID= DEMO_PID=; }
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_port() { # wait_port PORT PID
    for _ in $(seq 100); do
        kill -0 "$2" 2>/dev/null || return 1
        python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2).close()' \
            "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# start_demo DIR: a fresh buggy demo on a free loopback port (behind the counting proxy
# with COUNT_AT_SERVER=1); sets TARGET to the address the tool must use.
start_demo() {
    local port
    port=$(free_port)
    "$UNRULY" demo --serve "127.0.0.1:$port" -q > "$1/demo.log" 2>&1 &
    DEMO_PID=$!
    wait_port "$port" "$DEMO_PID" || { echo "demo did not start on 127.0.0.1:$port (see $1/demo.log)" >&2; exit 1; }
    TARGET="http://127.0.0.1:$port"
    if [ -n "${COUNT_AT_SERVER:-}" ]; then
        local pport
        pport=$(free_port)
        python3 "$HELPER" proxy --listen "$pport" --upstream "$port" --count-file "$1/server-requests" &
        PROXY_PID=$!
        wait_port "$pport" "$PROXY_PID" || { echo "counting proxy did not start" >&2; exit 1; }
        TARGET="http://127.0.0.1:$pport"
    fi
}

# run_tool DIR CMD...: runs CMD in DIR, in the background (so a signal reaches the trap at
# once), bounded by `timeout` as a safety net; writes DIR/elapsed (wall seconds), DIR/exit.
run_tool() {
    local dir=$1; shift
    local t0 t1 rc=0
    t0=$(date +%s.%N)
    (cd "$dir" && exec timeout -k 5 $((BUDGET + 60)) "$@" > stdout.txt 2> stderr.txt) &
    TOOL_PID=$!
    wait "$TOOL_PID" || rc=$?
    TOOL_PID=
    t1=$(date +%s.%N)
    python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.3f}")' "$t0" "$t1" > "$dir/elapsed"
    echo "$rc" > "$dir/exit"
    if [ -n "$PROXY_PID" ]; then stop_pid "$PROXY_PID"; PROXY_PID=; fi  # flushes the count
    stop_pid "$DEMO_PID"; DEMO_PID=
    return 0
}

run_schemathesis() { # run_schemathesis DIR
    local dir=$1
    mkdir -p "$dir"
    start_demo "$dir"
    # v4: all phases (examples, coverage, fuzzing, stateful) run by default; --max-time is
    # the whole run's budget; --checks all includes max_response_time (10 s limit).
    ST_CMD=("$VENV/bin/st" run "$TARGET/openapi.json" --checks all --workers "$WORKERS"
            --max-time "$BUDGET" --report ndjson,json,junit --report-dir "$dir/report"
            --no-color ${SCHEMATHESIS_ARGS:-})
    echo "${ST_CMD[*]}" > "$dir/command"
    echo "  schemathesis: ${ST_CMD[*]}" >&2
    # run_tool starts it in the run's own directory: Schemathesis keeps a crash cache
    # (.schemathesis/) and Hypothesis an example database (.hypothesis/) in the working
    # directory, which would replay earlier runs' failures; each run starts without them.
    run_tool "$dir" env NO_COLOR=1 "${ST_CMD[@]}"
    local rc
    rc=$(cat "$dir/exit")
    # 0: nothing found, 1: failures found; anything else is a broken run.
    if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
        echo "  schemathesis exited $rc; see $dir/stdout.txt and $dir/stderr.txt" >&2
    fi
}

run_unruly() { # run_unruly DIR
    local dir=$1
    mkdir -p "$dir"
    start_demo "$dir"
    U_CMD=("$UNRULY" explore --openapi "$TARGET/openapi.json" --target "$TARGET"
           --duration "${BUDGET}s" --report-dir "$dir/report")
    echo "${U_CMD[*]}" > "$dir/command"
    echo "  unruly: ${U_CMD[*]}" >&2
    run_tool "$dir" "${U_CMD[@]}"
    local rc
    rc=$(cat "$dir/exit")
    if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
        echo "  unruly explore exited $rc; see $dir/stdout.txt and $dir/stderr.txt" >&2
    fi
}

UNRULY_OK=1
if [ "$ONLY" != schemathesis ] && ! "$UNRULY" explore --help >/dev/null 2>&1; then
    if [ "$ONLY" = unruly ]; then echo "unruly explore not available yet" >&2; exit 2; fi
    echo "unruly explore not available yet: running the Schemathesis half only" >&2
    UNRULY_OK=
fi

echo "budget ${BUDGET}s per tool, $RUNS run(s), reports in $OUT" >&2
for run in $(seq "$RUNS"); do
    echo "run $run/$RUNS" >&2
    [ "$ONLY" = unruly ] || run_schemathesis "$OUT/run$run/schemathesis"
    [ "$ONLY" = schemathesis ] || [ -z "$UNRULY_OK" ] || run_unruly "$OUT/run$run/unruly"
done

python3 "$HELPER" summarize --out "$OUT" --runs "$RUNS" --budget "$BUDGET" \
    --planted "${PLANTED:-$ROOT/crates/unruly-demo/src/bugs.rs}" ${UNRULY_OK:+--unruly-ran}
