// Seed 002 (shared/seeds/002_*.txt, "Multi-Key Architecture Explained"): its Node backend,
// nothing improved. Keys from GROQ_API_KEYS (comma list); a round-robin selector that skips
// keys in cooldown; any failure (a 429 or another error) marks the key failed for 60 s and
// counts its failures; up to 3 attempts with different keys; GET /health as the seed shows
// it. Node 18+ (global fetch), no packages.
//
// Serves POST /api/chat {"message": "..."} → {"reply": "..."} and GET /health, on $PORT.
// Calls Groq at $GROQ_BASE_URL (default https://api.groq.com).

import http from "node:http";

const BASE = process.env.GROQ_BASE_URL ?? "https://api.groq.com";
const MODEL = process.env.SEED_MODEL ?? "llama-3.3-70b-versatile";
const COOLDOWN_MS = 60_000;
const MAX_ATTEMPTS = 3;
const keys = (process.env.GROQ_API_KEYS ?? "").split(",").map((k) => k.trim()).filter(Boolean);
const failed = new Map(); // key index → { failCount, until }
let current = 0;
console.log(`Loaded ${keys.length} Groq API key(s)`);

function inCooldown(i) {
  const f = failed.get(i);
  return Boolean(f && Date.now() < f.until);
}

function nextKey(tried) {
  for (let step = 0; step < keys.length; step++) {
    const i = (current + step) % keys.length;
    if (!inCooldown(i) && !tried.has(i)) {
      current = (i + 1) % keys.length;
      return i;
    }
  }
  return -1;
}

function markFailed(i) {
  const f = failed.get(i) ?? { failCount: 0, until: 0 };
  f.failCount += 1;
  f.until = Date.now() + COOLDOWN_MS;
  failed.set(i, f);
  console.log(`API Key #${i + 1} marked as failed (fail count: ${f.failCount})`);
}

async function chat(message) {
  const tried = new Set();
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const i = nextKey(tried);
    if (i < 0) break;
    tried.add(i);
    try {
      const response = await fetch(`${BASE}/openai/v1/chat/completions`, {
        method: "POST",
        headers: { Authorization: `Bearer ${keys[i]}`, "Content-Type": "application/json" },
        body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: message }] }),
      });
      if (!response.ok) {
        console.log(`Groq API Error (Key #${i + 1}): ${response.status}`);
        markFailed(i);
        continue;
      }
      const data = await response.json();
      console.log(`Request successful with API Key #${i + 1}`);
      return [200, { reply: data.choices[0].message.content }];
    } catch (e) {
      console.log(`Groq API Error (Key #${i + 1}): ${e.message}`);
      markFailed(i);
    }
  }
  return [503, { error: "All API keys are currently unavailable. Please try again later." }];
}

http
  .createServer(async (req, res) => {
    const send = (status, body) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method === "GET" && req.url === "/health") {
      const failedKeys = [...failed.entries()].map(([keyIndex, f]) => ({
        keyIndex,
        failCount: f.failCount,
        inCooldown: inCooldown(keyIndex),
      }));
      return send(200, {
        status: "healthy",
        totalKeys: keys.length,
        activeKeys: keys.filter((_, i) => !inCooldown(i)).length,
        failedKeys,
      });
    }
    if (req.method !== "POST" || req.url !== "/api/chat") return send(404, { error: "not found" });
    let raw = "";
    for await (const chunk of req) raw += chunk;
    let message = "";
    try {
      message = JSON.parse(raw).message ?? "";
    } catch {
      return send(400, { error: "bad JSON" });
    }
    send(...(await chat(message)));
  })
  .listen(Number(process.env.PORT ?? 3000), "127.0.0.1");
