-- Moves a job to a new status, forward only, with its status indexes, an optional log
-- line and extra fields, in one step. Done is final: a late "finished" never overwrites
-- "canceled". Index keys are built here from the namespace prefix (standalone Redis).
-- The function's output buffered until the job's end comes with it and is appended first,
-- within the log's byte limit (append_within.lua, prepended to this script), whether or
-- not the change applies, as the separate append it replaces was: ending a job that
-- printed costs one round trip.
-- KEYS[1] job hash, KEYS[2] job log
-- ARGV[1] key prefix ("<ns>:"), ARGV[2] job id, ARGV[3] new status,
-- ARGV[4] statuses it may come from, comma-separated ("" = any earlier, not done),
-- ARGV[5] log line ("" = none; the orchestrator's own lines are few, so they are kept
-- even past the log's byte limit), ARGV[6] channel told of done jobs,
-- ARGV[7] another sorted set to add the job to, by create time ("" = none; a worker's jobs),
-- ARGV[8] a field that must hold ARGV[9] for the change to apply ("" = no condition; an
-- agent ending a job names its attempt, so a retried job is not ended by an old one),
-- ARGV[10] the function's output lines ("" = none), ARGV[11] the log's byte limit,
-- ARGV[12] the line that says the log was cut,
-- ARGV[13..] field, value pairs to set
-- Returns {"ok", old status} | {"missing", ""} | {"refused", current status}
local rank = {initialized = 0, queued = 1, started = 2, cancelling = 3, canceled = 4, finished = 4, failed = 4}
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return {'missing', ''} end
if ARGV[10] ~= '' then append_within(KEYS[2], ARGV[10], tonumber(ARGV[11]), ARGV[12]) end
local target = ARGV[3]
if rank[current] == 4 then return {'refused', current} end
if ARGV[4] ~= '' then
  if not string.find(',' .. ARGV[4] .. ',', ',' .. current .. ',', 1, true) then return {'refused', current} end
elseif rank[target] <= rank[current] then
  return {'refused', current}
end
if ARGV[8] ~= '' and redis.call('HGET', KEYS[1], ARGV[8]) ~= ARGV[9] then return {'refused', current} end
redis.call('HSET', KEYS[1], 'status', target)
for i = 13, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
local id, prefix = ARGV[2], ARGV[1]
local endpoint = redis.call('HGET', KEYS[1], 'endpoint')
local created = redis.call('HGET', KEYS[1], 'createTime')
redis.call('ZREM', prefix .. 'jobs:status:' .. current, id)
redis.call('ZADD', prefix .. 'jobs:status:' .. target, created, id)
redis.call('ZREM', prefix .. 'jobs:endpoint:' .. endpoint .. ':status:' .. current, id)
redis.call('ZADD', prefix .. 'jobs:endpoint:' .. endpoint .. ':status:' .. target, created, id)
if ARGV[7] ~= '' then redis.call('ZADD', ARGV[7], created, id) end
if ARGV[5] ~= '' then redis.call('APPEND', KEYS[2], ARGV[5]) end
if rank[target] == 4 then redis.call('PUBLISH', ARGV[6], id) end
return {'ok', current}
