// The official groq Node SDK (groq-sdk) against `keyrotor proxy` in front of mock-groq.
//
// Run by tests/proxy_sdks.rs with PROXY_URL set, in the same set-up as check_proxy.py: the
// proxy's first key has spent its day, the second may send 60 requests a minute, and the SDK
// holds only a placeholder key. Exits non-zero on the first failed check.

import Groq from "groq-sdk";

const URL = process.env.PROXY_URL;
const MODEL = "openai/gpt-oss-120b";
const MESSAGES = [{ role: "user", content: "Say hello in Portuguese." }];
let passed = 0;

function check(name, condition, detail = "") {
  if (!condition) {
    console.log(`FAIL ${name}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
    process.exit(1);
  }
  passed += 1;
  console.log(`ok   ${name}`);
}

const client = (maxRetries = 0) =>
  new Groq({ apiKey: "any-placeholder", baseURL: URL, maxRetries, timeout: 20_000 });

// Failover: the SDK sees a 200.
const { data, response } = await client()
  .chat.completions.create({ model: MODEL, messages: MESSAGES, max_tokens: 20 })
  .withResponse();
check("completion after failover", Boolean(data.choices[0].message.content), data);
check("failover took two attempts", response.headers.get("x-keyrotor-attempts") === "2");

// A stream with usage.
const stream = await client().chat.completions.create({
  model: MODEL,
  messages: MESSAGES,
  max_tokens: 30,
  stream: true,
  stream_options: { include_usage: true },
});
const chunks = [];
for await (const chunk of stream) chunks.push(chunk);
const last = chunks[chunks.length - 1];
check("stream usage", last.usage != null && last.usage.total_tokens > 0, last);
const text = chunks.map((c) => c.choices?.[0]?.delta?.content ?? "").join("");
check("stream text", text.split(/\s+/).filter(Boolean).length === last.usage.completion_tokens, text);

// Spend the second key's minute: the pool's 429, with retry-after.
let error = null;
for (let i = 0; i < 100 && error === null; i++) {
  try {
    await client().chat.completions.create({ model: MODEL, messages: MESSAGES, max_tokens: 5 });
  } catch (e) {
    error = e;
  }
}
check("RateLimitError when every key is out", error instanceof Groq.RateLimitError && error.status === 429, String(error));
const retryAfter = Number(error.headers?.["retry-after"] ?? error.headers?.get?.("retry-after") ?? 0);
check("429 says when to come back", retryAfter >= 1 && retryAfter <= 2, `retry-after ${retryAfter}`);
check("429 body is Groq's", error.error?.error?.code === "rate_limit_exceeded" || error.error?.code === "rate_limit_exceeded", error.error);

// The SDK's own retry honours retry-after, then succeeds.
const start = performance.now();
const retried = await client(2).chat.completions.create({ model: MODEL, messages: MESSAGES, max_tokens: 5 });
const waited = (performance.now() - start) / 1000;
check("retries after retry-after", Boolean(retried.choices[0].message.content) && waited >= 0.5, `waited ${waited.toFixed(2)}s`);

console.log(`${passed} passed, 0 failed`);
