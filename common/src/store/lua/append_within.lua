-- A function, not a script: prepended to the scripts that append a function's output to a
-- job's log (append_log.lua, transition.lua), so both keep the log within its byte limit
-- the same way. Past the limit one marker line says the log was cut, and the function's
-- output is kept no more (the orchestrator's few own lines still are, see transition.lua).
local function append_within(log, lines, limit, marker)
  local length = redis.call('STRLEN', log)
  if length >= limit then return length end
  -- Cut already? The marker's note (after its "[<job id>] ") is found near the end; its
  -- time differs from this call's, and the orchestrator's lines may follow it.
  local note = string.sub(marker, (string.find(marker, '] ', 1, true) or 0) + 2)
  local tail = redis.call('GETRANGE', log, -(#marker + 4096), -1)
  if string.find(tail, note, 1, true) then return length end
  if length + #lines <= limit then return redis.call('APPEND', log, lines) end
  local cut = string.sub(lines, 1, limit - length)
  local last_newline = 0
  for i = #cut, 1, -1 do
    if string.sub(cut, i, i) == '\n' then last_newline = i break end
  end
  redis.call('APPEND', log, string.sub(cut, 1, last_newline))
  return redis.call('APPEND', log, marker)
end
