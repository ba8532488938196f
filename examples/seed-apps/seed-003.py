"""Seed 003 (shared/seeds/003_*.txt, "Groq API Key Fallback Setup"): `groq_config` as a
small server, nothing improved. Keys from GROQ_API_KEY, GROQ_API_KEY_2, GROQ_API_KEY_3; the
primary key first, always; an error (rate limit, quota, invalid key, timeout, unavailable)
counts against its key and the request moves to the next enabled key; a key with too many
errors (3) is disabled; every hour ("usually 1 hour") the counts reset and disabled keys come
back; a malformed request (400/404/422) is not retried. The seed shows no client code: the
`groq` SDK with its defaults (its own 2 retries with backoff) is what its services would use.

Serves POST /api/chat {"message": "..."} and GET /health (`get_status()`), on $PORT. The groq
SDK reads GROQ_BASE_URL itself.
"""

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import groq
from groq import Groq

MAX_ERRORS = 3
RESET_INTERVAL = 3600.0


class GroqConfig:
    def __init__(self):
        names = ["GROQ_API_KEY", "GROQ_API_KEY_2", "GROQ_API_KEY_3"]
        self.keys = [os.environ[n].strip() for n in names if os.environ.get(n, "").strip()]
        self.clients = [Groq(api_key=k) for k in self.keys]
        self.errors = [0] * len(self.keys)
        self.disabled = [False] * len(self.keys)
        self.last_reset = time.monotonic()
        self.lock = threading.Lock()

    def _maybe_reset(self):
        if time.monotonic() - self.last_reset >= RESET_INTERVAL:
            self.reset_all_keys()

    def reset_all_keys(self):
        self.errors = [0] * len(self.keys)
        self.disabled = [False] * len(self.keys)
        self.last_reset = time.monotonic()

    def record_error(self, i):
        with self.lock:
            self.errors[i] += 1
            if self.errors[i] >= MAX_ERRORS:
                self.disabled[i] = True
                print(f"API key #{i + 1} disabled after {self.errors[i]} errors", flush=True)

    def available(self):
        with self.lock:
            self._maybe_reset()
            return [i for i in range(len(self.keys)) if not self.disabled[i]]

    def get_status(self):
        return {
            "total_keys": len(self.keys),
            "available_keys": len(self.available()),
            "error_counts": list(self.errors),
            "disabled": list(self.disabled),
        }


groq_config = GroqConfig()


def chat(message):
    for i in groq_config.available():
        try:
            response = groq_config.clients[i].chat.completions.create(
                model="llama-3.3-70b-versatile",
                messages=[{"role": "user", "content": message}],
            )
            return 200, {"reply": response.choices[0].message.content}
        except groq.APIStatusError as e:
            if e.status_code in (400, 404, 422):
                return e.status_code, {"error": str(e)}
            print(f"API key #{i + 1} error {e.status_code}, switching", flush=True)
            groq_config.record_error(i)
        except groq.APIError as e:
            print(f"API key #{i + 1} error {e}, switching", flush=True)
            groq_config.record_error(i)
    return 503, {"error": "No API keys available"}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.reply(200, groq_config.get_status() if self.path == "/health" else {"error": "not found"})

    def do_POST(self):
        if self.path != "/api/chat":
            return self.reply(404, {"error": "not found"})
        length = int(self.headers.get("Content-Length", "0"))
        try:
            message = json.loads(self.rfile.read(length) or b"{}").get("message", "")
        except ValueError:
            return self.reply(400, {"error": "bad JSON"})
        self.reply(*chat(message))

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
