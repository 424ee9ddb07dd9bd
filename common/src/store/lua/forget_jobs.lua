-- Deletes done jobs with their logs and every index entry; jobs not done are kept.
-- ARGV[1] key prefix ("<ns>:"), ARGV[2..] job ids. Returns how many were deleted.
local prefix = ARGV[1]
local deleted = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  local job = prefix .. 'job:' .. id
  local fields = redis.call('HMGET', job, 'status', 'endpoint', 'workerId')
  local status, endpoint, worker = fields[1], fields[2], fields[3]
  if not status then
    redis.call('ZREM', prefix .. 'jobs:all', id)
  elseif status == 'finished' or status == 'failed' or status == 'canceled' then
    redis.call('DEL', job, job .. ':log')
    redis.call('ZREM', prefix .. 'jobs:all', id)
    redis.call('ZREM', prefix .. 'jobs:status:' .. status, id)
    redis.call('ZREM', prefix .. 'jobs:endpoint:' .. endpoint, id)
    redis.call('ZREM', prefix .. 'jobs:endpoint:' .. endpoint .. ':status:' .. status, id)
    if worker then redis.call('ZREM', prefix .. 'worker:' .. worker .. ':jobs', id) end
    deleted = deleted + 1
  end
end
return deleted
