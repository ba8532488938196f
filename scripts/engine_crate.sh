#!/usr/bin/env bash
# The engine crate an app embeds: its default dependency tree holds neither the mock, the
# harness, nor their plotting, CLI, histogram or test-clock crates; and its example program
# runs against the mock on loopback, with keys from the environment only.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/lean_tree.sh keyrotor-engine mock-groq keyrotor plotters clap hdrhistogram criterion

# The mock is the workspace's (`keyrotor mock`, built with the tests): building mock-groq
# alone would resolve its dependencies' features anew and compile them again, minutes in CI.
source scripts/keyrotor_bin.sh
cargo build --quiet --locked -p keyrotor-engine --example chat
log=$(mktemp)
"$keyrotor" mock --config mock-groq/config.example.toml --listen 127.0.0.1:0 > "$log" &
mock=$!
trap 'kill $mock 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 50); do
  url=$(head -1 "$log")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "error: the mock did not start" >&2; exit 1; }
out=$(GROQ_BASE_URL="$url" GROQ_API_KEYS=gsk_mock_a1,gsk_mock_b1 target/debug/examples/chat "Say hello")
echo "$out" | head -2 | cut -c1-100
grep -q '^attempts: 1' <<<"$out" || { echo "error: the example did not get an answer" >&2; exit 1; }
if grep -q gsk_mock <<<"$out"; then
  echo "error: the example printed a key" >&2
  exit 1
fi
