// Seed 001 (shared/seeds/001_*.txt, "Groq API Key Rotation System"): the singleton
// `GroqKeyManager` and `getGroqChatCompletion()` with `groq-sdk`, as a small Node server,
// nothing improved. Keys: GROQ_API_KEY, then GROQ_API_KEY_BACKUP (comma list) or
// GROQ_API_KEY_2. Only a daily token limit error switches keys (and marks the key exhausted);
// other rate-limit errors back off exponentially on the same key; authentication errors throw
// at once; at most 10 switches per request; `getStatus()` at GET /health.
//
// Where the seed shows no code, as keyrotor's `daily-exhaust` preset chose: a daily token
// limit is Groq's "tokens per day (TPD)" message; the backoff is 1 s·2ⁿ, 3 retries. The
// groq-sdk client keeps its defaults (its own 2 retries), as the seed's would.
//
// Serves POST /api/chat {"message": "..."} on $PORT; groq-sdk reads GROQ_BASE_URL itself.
// Run with tsx: node examples/seed-apps/node_modules/tsx/dist/cli.mjs examples/seed-apps/seed-001.ts

import http from "node:http";
import Groq from "groq-sdk";

class GroqKeyManager {
  private static instance: GroqKeyManager | null = null;
  private keys: string[];
  private exhausted = new Set<number>();
  private currentKeyIndex = 0;

  private constructor() {
    const primary = process.env.GROQ_API_KEY?.trim();
    const backups = (process.env.GROQ_API_KEY_BACKUP ?? process.env.GROQ_API_KEY_2 ?? "")
      .split(",")
      .map((k) => k.trim())
      .filter(Boolean);
    this.keys = [primary, ...backups].filter((k): k is string => Boolean(k));
  }

  static get(): GroqKeyManager {
    GroqKeyManager.instance ??= new GroqKeyManager();
    return GroqKeyManager.instance;
  }

  currentClient(): Groq {
    return new Groq({ apiKey: this.keys[this.currentKeyIndex] });
  }

  /** Marks the current key exhausted and moves to the next available one. */
  switchKey(): boolean {
    this.exhausted.add(this.currentKeyIndex);
    for (let step = 1; step <= this.keys.length; step++) {
      const next = (this.currentKeyIndex + step) % this.keys.length;
      if (!this.exhausted.has(next)) {
        this.currentKeyIndex = next;
        console.log(`Switched to Groq API key #${next + 1}`);
        return true;
      }
    }
    return false;
  }

  resetExhaustedKeys(): void {
    this.exhausted.clear();
  }

  getStatus() {
    return {
      totalKeys: this.keys.length,
      exhaustedKeys: this.exhausted.size,
      availableKeys: this.keys.length - this.exhausted.size,
      currentKeyIndex: this.currentKeyIndex,
    };
  }
}

export function getGroqKeyManager(): GroqKeyManager {
  return GroqKeyManager.get();
}

const MAX_SWITCHES = 10;
const MAX_BACKOFF_RETRIES = 3;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isDailyTokenLimit(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return message.includes("tokens per day") || message.includes("(TPD)");
}

export async function getGroqChatCompletion(message: string): Promise<string> {
  const manager = getGroqKeyManager();
  let switches = 0;
  let backoffRetries = 0;
  for (;;) {
    try {
      const completion = await manager.currentClient().chat.completions.create({
        model: "llama-3.3-70b-versatile",
        messages: [{ role: "user", content: message }],
      });
      return completion.choices[0]?.message?.content ?? "";
    } catch (error) {
      if (error instanceof Groq.AuthenticationError) throw error;
      if (error instanceof Groq.RateLimitError && isDailyTokenLimit(error)) {
        if (switches >= MAX_SWITCHES || !manager.switchKey()) {
          throw new Error("All Groq API keys have reached their daily token limit. Please try again tomorrow.");
        }
        switches++;
        continue;
      }
      if (error instanceof Groq.RateLimitError && backoffRetries < MAX_BACKOFF_RETRIES) {
        await sleep(1000 * 2 ** backoffRetries);
        backoffRetries++;
        continue;
      }
      throw error;
    }
  }
}

http
  .createServer(async (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method === "GET" && req.url === "/health") return send(200, getGroqKeyManager().getStatus());
    if (req.method !== "POST" || req.url !== "/api/chat") return send(404, { error: "not found" });
    let raw = "";
    for await (const chunk of req) raw += chunk;
    let message = "";
    try {
      message = JSON.parse(raw).message ?? "";
    } catch {
      return send(400, { error: "bad JSON" });
    }
    try {
      send(200, { reply: await getGroqChatCompletion(message) });
    } catch (error) {
      send(500, { error: error instanceof Error ? error.message : String(error) });
    }
  })
  .listen(Number(process.env.PORT ?? 3000), "127.0.0.1");
