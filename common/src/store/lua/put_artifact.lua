-- Records an uploaded artifact; refuses to replace one unless forced.
-- KEYS[1] artifacts hash; ARGV[1] name, ARGV[2] record JSON, ARGV[3] "1" to replace
-- Returns {"ok", previous record or ""} | {"exists", previous record}
local previous = redis.call('HGET', KEYS[1], ARGV[1])
if previous and ARGV[3] ~= '1' then return {'exists', previous} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return {'ok', previous or ''}
