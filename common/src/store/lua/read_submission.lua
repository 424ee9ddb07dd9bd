-- Reads everything a submission is checked against in one step: the endpoint, the context
-- it runs in, whether that context is broken, and the endpoint's artifact. The context and
-- the artifact are named in the endpoint's record, so a pipeline could not read them in
-- the same round trip. The broken flag's key is built here from the namespace prefix, in
-- the format of `Keys::context_broken` (standalone Redis).
-- KEYS[1] endpoints hash, KEYS[2] contexts hash, KEYS[3] artifacts hash
-- ARGV[1] key prefix ("<ns>:"), ARGV[2] endpoint name,
-- ARGV[3] "1" when ARGV[4] names the context; otherwise the endpoint's default is used
-- Returns {} when there is no such endpoint, else
-- {endpoint JSON, context name, context JSON | nil, broken reason | nil, artifact JSON | nil}
local endpoint = redis.call('HGET', KEYS[1], ARGV[2])
if not endpoint then return {} end
local decoded = cjson.decode(endpoint)
local context = ARGV[4]
if ARGV[3] ~= '1' then context = decoded.defaultContext end
return {
  endpoint,
  context,
  redis.call('HGET', KEYS[2], context),
  redis.call('GET', ARGV[1] .. 'context:' .. context .. ':broken'),
  redis.call('HGET', KEYS[3], decoded.path),
}
