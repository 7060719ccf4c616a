#!/usr/bin/env bash
# The spread of arrival times of a synchronised burst, measured at the server:
# ROUNDS bursts of SIZE requests (last-byte synchronisation) against a loopback
# server that timestamps each request when its last byte is read.
#
#   bench/burst-spread.sh            # 30 bursts of 20
#   ROUNDS=100 SIZE=50 bench/burst-spread.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --release -p unruly-engine --example burst_spread -- "${ROUNDS:-30}" "${SIZE:-20}"
