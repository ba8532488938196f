"""A small app for tests/app_target.rs (not a seed): it answers POST /chat {"message": …}
by calling Groq's chat endpoint at GROQ_BASE_URL with the keys of GROQ_API_KEYS, always
starting with the first key and moving to the next one on a 429 after a pause of
`sys.argv[1]` seconds (default 0). It logs each upstream attempt as
`attempt key=<i> status=<s>`, and for a request answered after a 429 the time from its arrival
to the start of the attempt that answered it (`failover ms=<t>`), so the test can compare what
keyrotor attributed and measured with what the app did. Standard library only.
"""

import json
import os
import sys
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BASE = os.environ["GROQ_BASE_URL"]
KEYS = [k.strip() for k in os.environ["GROQ_API_KEYS"].split(",") if k.strip()]
MODEL = "openai/gpt-oss-120b"
PAUSE = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0


def ask(message):
    arrived = time.monotonic()
    body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": message}], "max_tokens": 20}).encode()
    for i, key in enumerate(KEYS):
        request = urllib.request.Request(
            f"{BASE}/openai/v1/chat/completions",
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                answer = json.load(response)
                print(f"attempt key={i} status={response.status}", flush=True)
                if i > 0:
                    print(f"failover ms={(started - arrived) * 1000:.1f}", flush=True)
                return 200, {"reply": answer["choices"][0]["message"]["content"]}
        except urllib.error.HTTPError as e:
            print(f"attempt key={i} status={e.code}", flush=True)
            if e.code != 429:
                return 502, {"error": f"upstream {e.code}"}
            if i + 1 < len(KEYS):
                time.sleep(PAUSE)
    return 503, {"error": "every key is rate limited"}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.reply(200, {"status": "ok"} if self.path == "/health" else {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        message = json.loads(self.rfile.read(length) or b"{}").get("message", "")
        self.reply(*ask(message))

    def reply(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
    sys.exit(0)
