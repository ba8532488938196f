"""Official SDKs of the other providers against `keyrotor proxy --provider …` in front of the
mock speaking that provider, each on the provider's own path under the proxy.

Run by tests/proxy.rs with GEMINI_URL, OPENROUTER_URL and CEREBRAS_URL set, one proxy each:
- Gemini (the openai SDK on Gemini's OpenAI-compatible path, as Google documents it) and
  Cerebras (its own SDK, cerebras-cloud-sdk): two keys in two scopes, the first scope's day
  spent at the start, the second allowed 3 requests a minute;
- OpenRouter (the openai SDK on OpenRouter's path, as OpenRouter documents it): two keys of
  one account allowed 2 requests a minute — the proxy treats them as one scope.
The SDKs hold only a placeholder key. Exits non-zero on the first failed check; prints one
line per check.
"""

import json
import os
import urllib.request

import openai
from cerebras.cloud.sdk import Cerebras
from cerebras.cloud.sdk import RateLimitError as CerebrasRateLimitError

from checking import check, done

MESSAGES = [{"role": "user", "content": "Say hello in Portuguese."}]
PLACEHOLDER = "any-placeholder"


def until_limited(create, error_type):
    """Sends until the proxy answers 429 (at most 20 requests); the error."""
    for _ in range(20):
        try:
            create()
        except error_type as e:
            return e
    return None


def failover_then_limited(provider, client, model, error_type):
    """The first scope's spent day is the proxy's business: the SDK sees a completion that
    took two attempts; once the second scope's minute is spent, the SDK's own 429 error with
    a `retry-after`."""
    raw = client.chat.completions.with_raw_response.create(model=model, messages=MESSAGES, max_tokens=20)
    r = raw.parse()
    check(f"{provider}: completion after failover", bool(r.choices[0].message.content), r)
    check(f"{provider}: failover took two attempts", raw.headers.get("x-keyrotor-attempts") == "2", dict(raw.headers))
    error = until_limited(
        lambda: client.chat.completions.create(model=model, messages=MESSAGES, max_tokens=5), error_type
    )
    check(f"{provider}: the SDK's RateLimitError when every scope is out", error is not None and error.status_code == 429, error)
    retry_after = int(error.response.headers.get("retry-after", "0"))
    check(f"{provider}: 429 says when to come back", 1 <= retry_after <= 60, dict(error.response.headers))


gemini = openai.OpenAI(
    api_key=PLACEHOLDER, base_url=f"{os.environ['GEMINI_URL']}/v1beta/openai/", max_retries=0, timeout=20
)
failover_then_limited("gemini", gemini, "gemini-2.5-flash", openai.RateLimitError)

cerebras = Cerebras(api_key=PLACEHOLDER, base_url=os.environ["CEREBRAS_URL"], max_retries=0, timeout=20)
failover_then_limited("cerebras", cerebras, "gpt-oss-120b", CerebrasRateLimitError)

# OpenRouter: two keys of one account share its 2 a minute; the third request is the
# account's 429, after one attempt — the proxy does not spend a 429 on the other key.
router = openai.OpenAI(
    api_key=PLACEHOLDER, base_url=f"{os.environ['OPENROUTER_URL']}/api/v1", max_retries=0, timeout=20
)
model = "meta-llama/llama-3.3-70b-instruct:free"
for i in range(2):
    r = router.chat.completions.create(model=model, messages=MESSAGES, max_tokens=5)
    check(f"openrouter: completion {i + 1} of the account's 2", bool(r.choices[0].message.content), r)
error = until_limited(lambda: router.chat.completions.create(model=model, messages=MESSAGES, max_tokens=5), openai.RateLimitError)
check("openrouter: the SDK's RateLimitError once the account's minute is spent", error is not None and error.status_code == 429, error)
status = json.load(urllib.request.urlopen(f"{os.environ['OPENROUTER_URL']}/status", timeout=10))
pool = status["pools"][0]["status"]
check(
    "openrouter: one upstream 429, not one per key",
    pool["totals"]["failures"] == 1 and {k["state"] for k in pool["keys"]} == {"cooling"},
    pool,
)
check("openrouter: 429 says when to come back", int(error.response.headers.get("retry-after", "0")) >= 1, dict(error.response.headers))

done()
