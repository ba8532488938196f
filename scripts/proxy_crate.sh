#!/usr/bin/env bash
# The proxy crate a team deploys: its dependency tree holds neither the mock, the harness,
# nor their plotting, man-page, histogram or test-clock crates; and its binary, given keys in
# the environment only, serves a chat request through the mock on loopback without printing
# a key.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/lean_tree.sh keyrotor-proxy mock-groq keyrotor plotters clap_mangen clap_complete hdrhistogram indicatif image criterion

# The mock is the workspace's (`keyrotor mock`, built with the tests): building mock-groq
# alone would resolve its dependencies' features anew and compile them again, minutes in CI.
source scripts/keyrotor_bin.sh
cargo build --quiet --locked --bin keyrotor-proxy -p keyrotor-proxy
mock_log=$(mktemp)
proxy_log=$(mktemp)
proxy_err=$(mktemp)
"$keyrotor" mock --config mock-groq/config.example.toml --listen 127.0.0.1:0 > "$mock_log" 2>/dev/null &
mock=$!
proxy=
trap 'kill $mock $proxy 2>/dev/null; rm -f "$mock_log" "$proxy_log" "$proxy_err"' EXIT
# The first line each server prints is its URL.
url_of() {
  local url=
  for _ in $(seq 100); do
    url=$(head -1 "$1")
    [ -n "$url" ] && break
    sleep 0.1
  done
  echo "$url"
}
mock_url=$(url_of "$mock_log")
[ -n "$mock_url" ] || { echo "error: the mock did not start" >&2; exit 1; }
GROQ_API_KEYS=gsk_mock_a1,gsk_mock_b1 target/debug/keyrotor-proxy \
  --listen 127.0.0.1:0 --upstream "$mock_url" > "$proxy_log" 2> "$proxy_err" &
proxy=$!
proxy_url=$(url_of "$proxy_log")
[ -n "$proxy_url" ] || { echo "error: the proxy did not start" >&2; cat "$proxy_err" >&2; exit 1; }
answer=$(python3 - "$proxy_url" <<'PY'
import json, sys, urllib.error, urllib.request
body = {"model": "openai/gpt-oss-120b", "max_completion_tokens": 16,
        "messages": [{"role": "user", "content": "Say hello"}]}
request = urllib.request.Request(sys.argv[1] + "/openai/v1/chat/completions",
                                 data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
try:
    with urllib.request.urlopen(request, timeout=30) as response:
        print(response.read().decode())
        print(response.status)
except urllib.error.HTTPError as e:
    print(e.read().decode())
    print(e.code)
PY
)
code=$(tail -1 <<<"$answer")
[ "$code" = 200 ] || { echo "error: the proxy answered $code: $answer" >&2; exit 1; }
grep -q '"choices"' <<<"$answer" || { echo "error: no completion in the answer: $answer" >&2; exit 1; }
kill -TERM $proxy
wait $proxy || { echo "error: the proxy did not exit 0 on SIGTERM" >&2; exit 1; }
proxy=
if grep -q gsk_mock "$proxy_log" "$proxy_err"; then
  echo "error: the proxy printed a key" >&2
  exit 1
fi
echo "keyrotor-proxy: answered a chat request through the mock (HTTP 200), drained on SIGTERM"
