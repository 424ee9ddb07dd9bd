-- Appends lines of a function's output to a job's log, within its byte limit
-- (append_within.lua, prepended to this script).
-- KEYS[1] job log; ARGV[1] lines, ARGV[2] byte limit, ARGV[3] marker line
return append_within(KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3])
