"""Seed 004 (shared/seeds/004_*.txt, "API Key Failover Feature"): `SmartLLM` from
`aurora_v2.py` as a small server, nothing improved. GROQ_API_KEY plus GROQ_API_KEY_FALLBACK
(comma list); one `Groq` client at a time (the SDK's defaults: its own 2 retries with
backoff); rotate to the next key when the error text contains "rate", "limit" or "quota";
the hard-coded model, temperature 0.3 and max_tokens 400; the friendly fallback answer when
every key failed. One SmartLLM for the whole server, as the seed initialises one.

Serves POST /api/chat {"message": "..."} → the seed's answer object, and GET /health, on
$PORT. The groq SDK reads GROQ_BASE_URL itself.
"""

import json
import logging
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import List

from groq import Groq

logging.basicConfig(level=logging.INFO, format="%(asctime)s - %(levelname)s - %(message)s")
logger = logging.getLogger("aurora")


def fallback_response():
    return {
        "answer": "I'm currently experiencing high demand. Please try again in a moment!",
        "confidence": 0.0,
        "response_type": "system_error",
    }


class SmartLLM:
    """Groq LLM with automatic API key failover"""

    def __init__(self, api_key: str, fallback_keys: List[str] = None):
        self.api_keys = [api_key]
        if fallback_keys:
            self.api_keys.extend([k.strip() for k in fallback_keys if k.strip()])
        self.current_key_index = 0
        self.client = Groq(api_key=self.api_keys[self.current_key_index])
        logger.info(f"LLM initialized with {len(self.api_keys)} API key(s)")

    def _rotate_api_key(self):
        """Switch to next available API key"""
        self.current_key_index = (self.current_key_index + 1) % len(self.api_keys)
        self.client = Groq(api_key=self.api_keys[self.current_key_index])
        logger.warning(f"Rotated to API key #{self.current_key_index + 1}")

    def answer(self, prompt: str, confidence: float = 1.0):
        max_retries = len(self.api_keys)
        last_error = None
        for attempt in range(max_retries):
            try:
                response = self.client.chat.completions.create(
                    model="llama-3.3-70b-versatile",
                    messages=[{"role": "user", "content": prompt}],
                    temperature=0.3,
                    max_tokens=400,
                )
                return {
                    "answer": response.choices[0].message.content.strip(),
                    "confidence": confidence,
                    "response_type": "grounded_answer",
                }
            except Exception as e:
                last_error = e
                error_msg = str(e).lower()
                is_rate_limit = any(term in error_msg for term in ["rate", "limit", "quota"])
                if is_rate_limit and attempt < max_retries - 1:
                    logger.warning(f"Rate limit on key #{self.current_key_index + 1}, rotating...")
                    self._rotate_api_key()
                    continue
                else:
                    break
        logger.error(f"All {max_retries} API keys failed: {last_error}")
        return fallback_response()


GROQ_API_KEY = os.getenv("GROQ_API_KEY")
fallback_keys_str = os.getenv("GROQ_API_KEY_FALLBACK", "")
fallback_keys = [k.strip() for k in fallback_keys_str.split(",") if k.strip()]
llm = SmartLLM(GROQ_API_KEY, fallback_keys=fallback_keys)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.reply(200, {"status": "ok"} if self.path == "/health" else {"error": "not found"})

    def do_POST(self):
        if self.path != "/api/chat":
            return self.reply(404, {"error": "not found"})
        length = int(self.headers.get("Content-Length", "0"))
        try:
            message = json.loads(self.rfile.read(length) or b"{}").get("message", "")
        except ValueError:
            return self.reply(400, {"error": "bad JSON"})
        self.reply(200, llm.answer(message))

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
