#!/usr/bin/env bash
# Peak memory of a trace replay: generates a trace of ROWS requests (10 million by default,
# about 230 MB of CSV, spread evenly over one day), replays it in simulated time against 10
# keys and prints the replay's peak resident memory (GNU time's maximum RSS) beside the
# trace's size. Every row must be offered, and every offered request accounted for, or the
# bench stops: a replay that skipped rows would be cheap for the wrong reason.
#
#   bash benches/harness/trace_memory.sh            # 10,000,000 rows
#   bash benches/harness/trace_memory.sh 1000000    # a quicker look
set -euo pipefail
cd "$(dirname "$0")/../.."
rows=${1:-10000000}
cargo build --release --quiet --bin keyrotor
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
awk -v n="$rows" 'BEGIN {
  print "offset_s,prompt_tokens,completion_tokens,user";
  for (i = 0; i < n; i++) printf "%.6f,%d,%d,u%d\n", i * 86400 / n, 100 + i % 400, 20 + i % 180, i % 1000
}' > "$out/trace.csv"
echo "trace: $rows rows, $(du -m "$out/trace.csv" | cut -f1) MB"
/usr/bin/time -f "%M %e" -o "$out/time" target/release/keyrotor run --trace "$out/trace.csv" \
  --keys 10 --sim --json --out "$out/run" > "$out/report.json"
read -r rss_kb wall < "$out/time"
python3 - "$out/report.json" "$rows" "$rss_kb" "$wall" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
rows, rss_mb, wall = int(sys.argv[2]), int(sys.argv[3]) / 1024, float(sys.argv[4])
if s["offered"] != rows:
    sys.exit(f"offered {s['offered']} of {rows} rows")
if s["offered"] != s["succeeded"] + s["failed"] + s["dropped"]:
    sys.exit(f"a request is unaccounted for: {s}")
print(f"replayed {rows} rows ({s['succeeded']} answered) in {wall:.0f} s; peak memory {rss_mb:.0f} MB")
PY
