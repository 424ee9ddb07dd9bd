-- Appends lines to a job's log, keeping it within its byte limit: past the limit one
-- marker line says the log was cut, and the function's output is kept no more (the
-- orchestrator's few own lines still are, see transition.lua).
-- KEYS[1] job log; ARGV[1] lines, ARGV[2] byte limit, ARGV[3] marker line
local limit = tonumber(ARGV[2])
local marker = ARGV[3]
local length = redis.call('STRLEN', KEYS[1])
if length >= limit then return length end
if length >= #marker and redis.call('GETRANGE', KEYS[1], -#marker, -1) == marker then return length end
if length + #ARGV[1] <= limit then return redis.call('APPEND', KEYS[1], ARGV[1]) end
local cut = string.sub(ARGV[1], 1, limit - length)
local last_newline = 0
for i = #cut, 1, -1 do
  if string.sub(cut, i, i) == '\n' then last_newline = i break end
end
redis.call('APPEND', KEYS[1], string.sub(cut, 1, last_newline))
return redis.call('APPEND', KEYS[1], marker)
