#!/usr/bin/env bash
# Driver throughput vs wrk on the same mock endpoint and connection count (32), side by side,
# alternating 5 rounds; prints each round and the medians. Needs wrk (apt-get install wrk).
# Run from the repository root: bash benches/harness/driver_vs_wrk.sh
set -euo pipefail
cargo build --release --quiet
port=18080
target/release/mock-groq --config benches/harness/mock-unlimited.toml --listen 127.0.0.1:$port > /dev/null &
mock=$!
trap 'kill $mock' EXIT
sleep 1
out=$(mktemp -d)
wrk_rps=(); ours=()
for round in 1 2 3 4 5; do
  w=$(wrk -t2 -c32 -d10s -s benches/harness/post.lua http://127.0.0.1:$port/openai/v1/chat/completions | awk '/Requests\/sec/ {print $2}')
  GROQ_API_KEY=gsk_bench_key target/release/keyrotor run benches/harness/driver.toml --out "$out/r$round" > /dev/null 2>&1
  k=$(python3 -c "import json,sys; r=json.load(open('$out/r$round/report.json')); print(round(r['summary']['throughput_rps']))")
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
      f"median of round ratios {paired:.3f} (target >= 0.8)")
PY
