-- keyrotor: publish rests and the rotation's position, atomically.
-- KEYS[1..m]  the rests to set;  KEYS[m+1]  the rotation's position
-- ARGV[2i-1], ARGV[2i]  kind and length (ms) of rest i: kept unless a longer one is stored
-- ARGV[2m+1]  the caller's rotation position;  ARGV[2m+2]  how long it is kept, ms
local m = #KEYS - 1
for i = 1, m do
  local ms = tonumber(ARGV[2 * i])
  if redis.call('PTTL', KEYS[i]) < ms then
    redis.call('SET', KEYS[i], ARGV[2 * i - 1], 'PX', ms)
  end
end
local have = tonumber(redis.call('GET', KEYS[m + 1]) or '0') or 0
local asked = tonumber(ARGV[2 * m + 1])
if asked > have then have = asked end
redis.call('SET', KEYS[m + 1], string.format('%d', have), 'PX', ARGV[2 * m + 2])
return 1
