#!/usr/bin/env bash
# The kill -9 loop at full length (CI runs 10 rounds): the durability test with
# GLEANER_KILL_LOOPS rounds. Each round starts the daemon against 8 growing feeds, runs editor
# commands beside it (pick, reject, draft + publish), starts one more (pick, rescore, draft,
# publish or candidates) and kills it and the daemon with SIGKILL at random moments, then
# checks integrity, duplicates, committed stories and decisions, and that every output file
# is whole.
#
#   bench/kill_loop.sh [ROUNDS] [SEED]     (defaults: 50 rounds, seed 6)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-50}"
seed="${2:-6}"
start=$(date +%s)
log="$(mktemp)"
status=0
GLEANER_KILL_LOOPS="$rounds" GLEANER_KILL_SEED="$seed" \
    cargo test --locked --test integration kill_9_during -- --nocapture >"$log" 2>&1 || status=$?
grep -E "^kill -9:|test result|panicked|round [0-9]+" "$log" || tail -30 "$log"
rm -f "$log"
echo "wall: $(( $(date +%s) - start )) s for $rounds rounds (seed $seed), exit $status"
exit "$status"
