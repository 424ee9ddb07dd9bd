-- Writes an endpoint after checking, in the same step, what it depends on.
-- KEYS[1] endpoints, KEYS[2] contexts, KEYS[3] artifacts
-- ARGV[1] name, ARGV[2] EndpointInfo JSON, ARGV[3] "create" | "replace" | "update",
-- ARGV[4] its context ("" for the always-present default), ARGV[5] artifact name ("" = unchecked)
local exists = redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1
if ARGV[3] == 'create' and exists then return 'exists' end
if ARGV[3] == 'update' and not exists then return 'missing' end
if ARGV[4] ~= '' and redis.call('HEXISTS', KEYS[2], ARGV[4]) == 0 then return 'no-context' end
if ARGV[5] ~= '' and redis.call('HEXISTS', KEYS[3], ARGV[5]) == 0 then return 'no-artifact' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 'ok'
