// Seed 000 (shared/seeds/000_*.txt, "MULTI-KEY GROQ SYSTEM"): its `api/chat.js` as a small
// Node server, nothing improved. Five key slots GROQ_API_KEY1…GROQ_API_KEY5; round-robin
// start (a module-level index that moves on with every request); a `fetch` per attempt;
// `continue` to the next key on a 429 or a network error; the first OK answer wins; any other
// answer falls through to the next key too (the seed's loop has nothing after its two checks). Node 18+ (global fetch), no packages.
//
// Serves POST /api/chat {"message": "..."} → {"reply": "..."} and GET /health, on $PORT.
// Calls Groq at $GROQ_BASE_URL (default https://api.groq.com).

import http from "node:http";

const BASE = process.env.GROQ_BASE_URL ?? "https://api.groq.com";
// The seed's cloud model for "Llama 70B"; the seeds' date serves it (Groq retired it later).
const MODEL = process.env.SEED_MODEL ?? "llama-3.3-70b-versatile";
const GROQ_KEYS = [1, 2, 3, 4, 5]
  .map((i) => process.env[`GROQ_API_KEY${i}`])
  .filter((key) => key && key.trim());
let currentKeyIndex = 0;

async function chat(message) {
  for (let attempt = 0; attempt < GROQ_KEYS.length; attempt++) {
    const keyIndex = (currentKeyIndex + attempt) % GROQ_KEYS.length;
    console.log(`Trying Groq API key ${keyIndex + 1}/${GROQ_KEYS.length} for model: ${MODEL}`);
    let response;
    try {
      response = await fetch(`${BASE}/openai/v1/chat/completions`, {
        method: "POST",
        headers: { Authorization: `Bearer ${GROQ_KEYS[keyIndex]}`, "Content-Type": "application/json" },
        body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: message }] }),
      });
    } catch (e) {
      console.log(`Network error on key ${keyIndex + 1}, trying next key...`);
      continue;
    }
    if (response.status === 429) {
      console.log(`Rate limit hit on key ${keyIndex + 1}, trying next key...`);
      continue; // Try next key
    }
    if (response.ok) {
      console.log(`Groq API success with key ${keyIndex + 1}`);
      currentKeyIndex = (keyIndex + 1) % GROQ_KEYS.length;
      const data = await response.json();
      return [200, { reply: data.choices[0].message.content }];
    }
    // The seed's loop has nothing after these two checks: any other answer (a 401, a 5xx)
    // falls through to the next key, as a 429 does.
    console.log(`Groq API error ${response.status} on key ${keyIndex + 1}, trying next key...`);
  }
  return [503, { error: "All Groq API keys are rate limited. Please try again later." }];
}

http
  .createServer(async (req, res) => {
    const send = (status, body) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method === "GET" && req.url === "/health") return send(200, { status: "ok", keys: GROQ_KEYS.length });
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
