-- keyrotor: publish rests, the rotation's position, a probe's end and errors, atomically.
-- KEYS[1..m]  the rests to set;  KEYS[m+1]  the rotation's position
-- KEYS[m+2]   a probe lease to end (the caller's probe was answered)
-- KEYS[m+3..] error counts to raise by one
-- ARGV[1]     m, the number of rests
-- ARGV[2i], ARGV[2i+1]  kind and length (ms) of rest i: kept unless a longer one is stored
-- ARGV[2m+2]  the caller's rotation position;  ARGV[2m+3]  how long it is kept, ms
-- ARGV[2m+4]  the caller's replica number ('' : no lease to end); only its own lease ends
-- ARGV[2m+4+j] how long error count j lasts from its first error, ms
local m = tonumber(ARGV[1])
for i = 1, m do
  local ms = tonumber(ARGV[2 * i + 1])
  if redis.call('PTTL', KEYS[i]) < ms then
    redis.call('SET', KEYS[i], ARGV[2 * i], 'PX', ms)
  end
end
local have = tonumber(redis.call('GET', KEYS[m + 1]) or '0') or 0
local asked = tonumber(ARGV[2 * m + 2])
if asked > have then have = asked end
redis.call('SET', KEYS[m + 1], string.format('%d', have), 'PX', ARGV[2 * m + 3])
local holder = ARGV[2 * m + 4]
if holder ~= '' and redis.call('GET', KEYS[m + 2]) == holder then
  redis.call('DEL', KEYS[m + 2])
end
for j = 1, #KEYS - m - 2 do
  local key = KEYS[m + 2 + j]
  redis.call('INCR', key)
  if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ARGV[2 * m + 4 + j]) end
end
return 1
