#!/usr/bin/env bash
# unruly load vs wrk (and oha, hey when installed) against nginx on 127.0.0.1,
# one thread each, in turns, several rounds; prints medians and ratios.
#
#   bench/vs-wrk.sh                 # 10 s per run, 3 rounds, 50 and 1000 connections
#   DURATION=5 ROUNDS=5 CONNECTIONS="50" bench/vs-wrk.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/common.sh"
need_packages
build_unruly
PORT=${PORT:-18080}
start_nginx "$PORT"
python3 "$ROOT/bench/vs_wrk.py" --unruly "$UNRULY" --url "http://127.0.0.1:$PORT/index.html" \
    --duration "${DURATION:-10}" --rounds "${ROUNDS:-3}" --connections ${CONNECTIONS:-50 1000}
