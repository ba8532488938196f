#!/usr/bin/env bash
# Driver throughput vs wrk on the same mock endpoint and connection count (32), side by side,
# alternating 5 rounds; prints each round and the medians. Only answers are timed: a round in
# which wrk saw a non-2xx answer, or keyrotor a failed or dropped request, stops the bench.
# Needs wrk (apt-get install wrk).
# Run from the repository root: bash benches/harness/driver_vs_wrk.sh
set -euo pipefail
cargo build --release --quiet
port=18080
target/release/keyrotor mock --config benches/harness/mock-unlimited.toml --listen 127.0.0.1:$port > /dev/null &
mock=$!
trap 'kill $mock' EXIT
sleep 1
out=$(mktemp -d)
wrk_rps=(); ours=()
for round in 1 2 3 4 5; do
  wrk_out=$(wrk -t2 -c32 -d10s -s benches/harness/post.lua http://127.0.0.1:$port/openai/v1/chat/completions)
  # Only answers count: wrk says how many were not 2xx/3xx (a retired model's 404s, say).
  if grep -q "Non-2xx or 3xx responses" <<<"$wrk_out"; then
    echo "round $round: wrk got answers that were not completions, refusing to time them:" >&2
    grep "Non-2xx or 3xx responses" <<<"$wrk_out" >&2
    exit 1
  fi
  w=$(awk '/Requests\/sec/ {print $2}' <<<"$wrk_out")
  GROQ_API_KEY=gsk_bench_key target/release/keyrotor run benches/harness/driver.toml --out "$out/r$round" > /dev/null 2>&1
  k=$(python3 -c "
import json, sys
s = json.load(open('$out/r$round/report.json'))['summary']
if s['failed'] or s['dropped']:
    sys.exit(f'round $round: keyrotor had {s[\"failed\"]} failed and {s[\"dropped\"]} dropped requests, not only answers')
print(round(s['throughput_rps']))")
  echo "round $round: wrk $w req/s, keyrotor $k req/s"
  wrk_rps+=("$w"); ours+=("$k")
done
python3 - "${wrk_rps[@]}" "${ours[@]}" <<'PY'
import statistics, sys
v = [float(x) for x in sys.argv[1:]]
n = len(v) // 2
w, k = statistics.median(v[:n]), statistics.median(v[n:])
paired = statistics.median(b / a for a, b in zip(v[:n], v[n:]))
print(f"median: wrk {w:.0f} req/s, keyrotor {k:.0f} req/s, ratio of medians {k / w:.3f}, "
      f"median of round ratios {paired:.3f} (target >= 1.0, answers only)")
PY
