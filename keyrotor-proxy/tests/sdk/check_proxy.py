"""The official groq and openai Python SDKs against `keyrotor proxy` in front of mock-groq.

Run by tests/proxy_sdks.rs with PROXY_URL set. The proxy holds two keys: the first one's
organisation has spent its day, the second may send 60 requests a minute. The SDKs hold only
a placeholder key. Exits non-zero on the first failed check; prints one line per check.
"""

import os
import time

import groq
import openai

from checking import check, done

URL = os.environ["PROXY_URL"]
MODEL = "openai/gpt-oss-120b"
MESSAGES = [{"role": "user", "content": "Say hello in Portuguese."}]
PLACEHOLDER = "any-placeholder"


def groq_client(retries=0):
    return groq.Groq(api_key=PLACEHOLDER, base_url=URL, max_retries=retries, timeout=20)


def openai_client(retries=0):
    return openai.OpenAI(api_key=PLACEHOLDER, base_url=f"{URL}/openai/v1", max_retries=retries, timeout=20)


# Failover: the first key's daily 429 is the proxy's business; the SDK sees a 200.
raw = groq_client().chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES, max_tokens=20)
r = raw.parse()
check("groq completion after failover", bool(r.choices[0].message.content), r)
check("failover took two attempts", raw.headers.get("x-keyrotor-attempts") == "2", dict(raw.headers))

r = openai_client().chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=20)
check("openai completion", bool(r.choices[0].message.content) and r.usage.total_tokens > 0, r)

# A stream with usage, through both SDKs.
chunks = list(
    groq_client().chat.completions.create(
        model=MODEL, messages=MESSAGES, max_tokens=30, stream=True, extra_body={"stream_options": {"include_usage": True}}
    )
)
check("groq stream usage", chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0, chunks[-1])
text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
check("groq stream text", len(text.split()) == chunks[-1].usage.completion_tokens, text)
chunks = list(
    openai_client().chat.completions.create(
        model=MODEL, messages=MESSAGES, max_tokens=30, stream=True, stream_options={"include_usage": True}
    )
)
check("openai stream usage", chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0, chunks[-1])

# Spend the second key's minute: the pool's 429, with retry-after.
error = None
for _ in range(100):
    try:
        groq_client().chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=5)
    except groq.RateLimitError as e:
        error = e
        break
check("groq RateLimitError when every key is out", error is not None and error.status_code == 429, error)
retry_after = int(error.response.headers.get("retry-after", "0"))
check("429 says when to come back", 1 <= retry_after <= 2, dict(error.response.headers))
body = error.body if isinstance(error.body, dict) else {}
body = body.get("error", body)
check("429 body is Groq's", body.get("type") == "requests" and body.get("code") == "rate_limit_exceeded", error.body)
try:
    openai_client().chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=5)
    check("openai RateLimitError", False, "no error raised")
except openai.RateLimitError as e:
    check("openai RateLimitError", e.status_code == 429, e)

# The SDK's own retry honours retry-after, then succeeds.
start = time.monotonic()
r = groq_client(retries=2).chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=5)
waited = time.monotonic() - start
check("groq retries after retry-after", bool(r.choices[0].message.content) and waited >= 0.5, f"waited {waited:.2f}s")

done()
