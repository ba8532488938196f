-- keyrotor: one attempt's admission, atomically, on the server's clock.
-- KEYS[1..n]  every key's rest (value: 1 cooling, 2 exhausted, 3 disabled; PX: how long)
-- KEYS[n+1]   the pacing bucket of the chosen key's organisation, a hash: tat and ttat
--             (GCRA's theoretical arrivals, ms, for requests and tokens) and rpm and tpm
--             (the limits some replica learned)
-- KEYS[n+2]   the rotation's position (only grows; its TTL renews when it moves)
-- KEYS[n+3]   the chosen key's probe lease (held by the replica probing it after a rest)
-- KEYS[n+4]   the chosen key's error count (across replicas)
-- ARGV[1]     the chosen key, 1-based (0: only read, as a cold start does)
-- ARGV[2]     the organisation's requests per minute as the caller knows it (0: unknown;
--             -1: the policy does not pace)
-- ARGV[3]     the caller's rotation position
-- ARGV[4]     how long the position is kept, ms
-- ARGV[5]     this attempt probes the key back from a rest: its lease, ms (0: not a probe)
-- ARGV[6]     who would hold the lease (the caller's replica number)
-- ARGV[7]     the organisation's tokens per minute as the caller knows it (0: unknown)
-- ARGV[8]     the tokens this attempt reserves (its cost in the token bucket)
-- Returns {verdict, wait ms, position, rpm (0: unknown), errors, kind_1, left ms_1, ...,
--          kind_n, left ms_n};
-- verdict: 0 read only, 1 admitted, 2 the key rests, 3 paced (wait ms until a slot),
-- 4 another replica probes the key (wait ms until its lease ends).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local n = #KEYS - 4
local k = tonumber(ARGV[1])
local rpm = tonumber(ARGV[2])
-- One MGET for every key's rest (the common case: none; PTTL only for those that rest),
-- the position and the chosen key's error count: each redis.call costs a few µs.
local keys = {unpack(KEYS, 1, n)}
keys[n + 1] = KEYS[n + 2]
keys[n + 2] = KEYS[n + 4]
local kinds = redis.call('MGET', unpack(keys))
local cursor = tonumber(kinds[n + 1] or '0') or 0
local asked = tonumber(ARGV[3])
if asked > cursor then
  cursor = asked
  redis.call('SET', KEYS[n + 2], string.format('%d', cursor), 'PX', ARGV[4])
end
local out = {0, 0, cursor, 0, 0}
for i = 1, n do
  local kind = tonumber(kinds[i] or '0') or 0
  local left = 0
  if kind ~= 0 then left = redis.call('PTTL', KEYS[i]) end
  if left <= 0 then kind = 0; left = 0 end
  out[#out + 1] = kind
  out[#out + 1] = left
end
if k == 0 then return out end
out[5] = tonumber(kinds[n + 2] or '0') or 0
local lease = tonumber(ARGV[5]) or 0
local function probed_elsewhere()
  if lease <= 0 then return false end
  local left = redis.call('PTTL', KEYS[n + 3])
  if left > 0 then out[1] = 4; out[2] = left; return true end
  return false
end
-- GCRA over a minute, burst = limit: the new theoretical arrival and how long until it fits.
local function gcra(tat, limit, cost)
  tat = tonumber(tat or '0') or 0
  if tat < now then tat = now end
  local nxt = tat + cost * 60000 / limit
  return nxt, nxt - 60000 - now
end
if rpm >= 0 then
  local pace = redis.call('HMGET', KEYS[n + 1], 'tat', 'rpm', 'ttat', 'tpm')
  -- What the bucket is told: a limit it did not have yet, and the new arrivals. Written in
  -- one HSET, only when something changes (the common case with no limit known: nothing).
  local writes = {}
  local stored = tonumber(pace[2] or '0') or 0
  if rpm > 0 then
    if rpm ~= stored then writes[#writes + 1] = 'rpm'; writes[#writes + 1] = rpm end
  else
    rpm = stored
  end
  local tpm = tonumber(ARGV[7]) or 0
  stored = tonumber(pace[4] or '0') or 0
  if tpm > 0 then
    if tpm ~= stored then writes[#writes + 1] = 'tpm'; writes[#writes + 1] = tpm end
  else
    tpm = stored
  end
  local function write()
    if #writes == 0 then return end
    redis.call('HSET', KEYS[n + 1], unpack(writes))
    -- The bucket lives a day after its last write: the learned limits outlast the minute.
    redis.call('PEXPIRE', KEYS[n + 1], 86400000)
  end
  out[4] = rpm
  if out[4 + 2 * k] ~= 0 then write(); out[1] = 2; return out end
  if probed_elsewhere() then write(); return out end
  local wait, tat, ttat = 0, nil, nil
  if rpm > 0 then
    local w
    tat, w = gcra(pace[1], rpm, 1)
    if w > wait then wait = w end
  end
  -- A request larger than the whole limit is not held back (the API's 413 says more).
  local cost = tonumber(ARGV[8]) or 0
  if tpm > 0 and cost > 0 and cost <= tpm then
    local w
    ttat, w = gcra(pace[3], tpm, cost)
    if w > wait then wait = w end
  end
  if wait > 0 then write(); out[1] = 3; out[2] = math.ceil(wait); return out end
  if tat then writes[#writes + 1] = 'tat'; writes[#writes + 1] = string.format('%.3f', tat) end
  if ttat then writes[#writes + 1] = 'ttat'; writes[#writes + 1] = string.format('%.3f', ttat) end
  write()
end
if out[4 + 2 * k] ~= 0 then out[1] = 2; return out end
if probed_elsewhere() then return out end
-- The attempt that goes takes the probe's lease.
if lease > 0 then redis.call('SET', KEYS[n + 3], ARGV[6], 'PX', lease) end
out[1] = 1
return out
