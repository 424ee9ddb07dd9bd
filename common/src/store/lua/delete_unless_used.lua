-- Deletes a context or an artifact unless an endpoint still points at it, in one step so
-- an endpoint created meanwhile cannot be left pointing at nothing.
-- KEYS[1] endpoints hash, KEYS[2] the hash holding the thing to delete
-- ARGV[1] its name, ARGV[2] the endpoint field that refers to it ("defaultContext", "path")
-- Returns {"ok", old record} | {"missing", ""} | {"in-use", endpoint name}
local old = redis.call('HGET', KEYS[2], ARGV[1])
if not old then return {'missing', ''} end
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local ok, endpoint = pcall(cjson.decode, all[i + 1])
  if ok and endpoint[ARGV[2]] == ARGV[1] then return {'in-use', all[i]} end
end
redis.call('HDEL', KEYS[2], ARGV[1])
return {'ok', old}
