"""The official groq and openai Python SDKs against mock-groq.

Run by tests/sdk.rs with MOCK_URL set to a mock started for it (see that file for the
config). Exits non-zero on the first failed check; prints one line per check.
"""

import os
import sys
import time

import groq
import openai

URL = os.environ["MOCK_URL"]
OK_KEY = os.environ["MOCK_OK_KEY"]
LIMITED_KEY = os.environ["MOCK_LIMITED_KEY"]
MODEL = "openai/gpt-oss-120b"
MESSAGES = [{"role": "user", "content": "Say hello in Portuguese."}]

passed = 0


def check(name, condition, detail=""):
    global passed
    if not condition:
        print(f"FAIL {name}: {detail}")
        sys.exit(1)
    passed += 1
    print(f"ok   {name}")


def error_object(e):
    """The `error` object of an SDK exception's body (SDK versions differ in unwrapping it)."""
    body = e.body if isinstance(e.body, dict) else {}
    return body.get("error", body)


def groq_client(key, retries=0):
    return groq.Groq(api_key=key, base_url=URL, max_retries=retries, timeout=20)


def openai_client(key, retries=0):
    return openai.OpenAI(api_key=key, base_url=f"{URL}/openai/v1", max_retries=retries, timeout=20)


# A completion, through both SDKs.
r = groq_client(OK_KEY).chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=20)
check("groq completion content", bool(r.choices[0].message.content), r)
check("groq completion usage", r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens, r.usage)
check("groq completion timing", r.usage.total_time is not None and r.usage.total_time >= 0, r.usage)
check("groq x_groq id", r.x_groq is not None and r.x_groq.id.startswith("req_"), r.x_groq)

r = openai_client(OK_KEY).chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=20)
check("openai completion", bool(r.choices[0].message.content) and r.usage.total_tokens > 0, r)

# A stream with usage.
chunks = list(
    groq_client(OK_KEY).chat.completions.create(
        model=MODEL, messages=MESSAGES, max_tokens=30, stream=True, extra_body={"stream_options": {"include_usage": True}}
    )
)
check("groq stream first chunk x_groq", chunks[0].x_groq is not None and chunks[0].x_groq.id.startswith("req_"), chunks[0])
finish = [c for c in chunks if c.choices and c.choices[0].finish_reason]
check("groq stream finish chunk", len(finish) == 1 and finish[0].x_groq.usage is not None, finish)
check("groq stream usage chunk", chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0, chunks[-1])
text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
check("groq stream text", len(text.split()) == chunks[-1].usage.completion_tokens, text)

chunks = list(
    openai_client(OK_KEY).chat.completions.create(
        model=MODEL, messages=MESSAGES, max_tokens=30, stream=True, stream_options={"include_usage": True}
    )
)
check("openai stream usage", chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0, chunks[-1])

# A 429 the SDKs raise as RateLimitError, and retry after retry-after.
groq_client(LIMITED_KEY).chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=5)
try:
    groq_client(LIMITED_KEY).chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=5)
    check("groq RateLimitError", False, "no error raised")
except groq.RateLimitError as e:
    retry_after = int(e.response.headers["retry-after"])
    check("groq RateLimitError", e.status_code == 429 and retry_after >= 1, e)
    err = error_object(e)
    check("groq 429 body", err.get("type") == "requests" and "(RPM)" in err.get("message", ""), e.body)
try:
    openai_client(LIMITED_KEY).chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=5)
    check("openai RateLimitError", False, "no error raised")
except openai.RateLimitError as e:
    check("openai RateLimitError", e.status_code == 429, e)

start = time.monotonic()
r = groq_client(LIMITED_KEY, retries=2).chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=5)
waited = time.monotonic() - start
check("groq retries after retry-after", r.choices[0].message.content and waited >= 0.9, f"waited {waited:.2f}s")

# A 401.
try:
    groq_client("gsk_not_a_key").chat.completions.create(model=MODEL, messages=MESSAGES)
    check("groq AuthenticationError", False, "no error raised")
except groq.AuthenticationError as e:
    check("groq AuthenticationError", e.status_code == 401 and error_object(e).get("code") == "invalid_api_key", e.body)
try:
    openai_client("gsk_not_a_key").chat.completions.create(model=MODEL, messages=MESSAGES)
    check("openai AuthenticationError", False, "no error raised")
except openai.AuthenticationError as e:
    check("openai AuthenticationError", e.status_code == 401, e)

print(f"{passed} passed, 0 failed")
