"""The Lua scripts of the Redis journal and of the sittings' leases. Each runs atomically in
Redis: nothing else is executed between its first and its last command."""

from __future__ import annotations

# KEYS: log (stream), answers (hash), box (hash), lease, sittings (set)
# ARGV: lease value ('' = unfenced), sitting, n records, n answers, n ballots, then
#       n × (seq, hash, payload), n × (key, answer), n × (field, delta)
# Returns {'OK'} | {'CONFLICT', expected, got} | {'FENCED'}; writes nothing unless OK.
APPEND = """
local lease = ARGV[1]
if lease ~= '' and redis.call('GET', KEYS[4]) ~= lease then
  return {'FENCED'}
end
local nrec, nans, nbal = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local i = 6
if nrec > 0 then
  local last = 0
  local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
  if #top > 0 then last = tonumber(string.match(top[1][1], '^(%d+)')) end
  for k = 0, nrec - 1 do
    local seq = tonumber(ARGV[i + 3 * k])
    if seq ~= last + 1 + k then return {'CONFLICT', last + 1 + k, seq} end
  end
  for k = 0, nrec - 1 do
    local j = i + 3 * k
    redis.call('XADD', KEYS[1], ARGV[j] .. '-0', 'h', ARGV[j + 1], 'p', ARGV[j + 2])
  end
  redis.call('SADD', KEYS[5], ARGV[2])
end
i = i + 3 * nrec
for k = 0, nans - 1 do
  redis.call('HSET', KEYS[2], ARGV[i + 2 * k], ARGV[i + 2 * k + 1])
end
i = i + 2 * nans
for k = 0, nbal - 1 do
  redis.call('HINCRBY', KEYS[3], ARGV[i + 2 * k], ARGV[i + 2 * k + 1])
end
return {'OK'}
"""

# KEYS: lease, fence counter. ARGV: node id, ttl ms.
# Takes a free lease with a new fencing token; returns the lease's value (ours or not).
CLAIM = """
local cur = redis.call('GET', KEYS[1])
if cur then return cur end
local token = redis.call('INCR', KEYS[2])
local value = ARGV[1] .. ':' .. token
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return value
"""

# KEYS: lease. ARGV: our lease value, ttl ms. 1 if still ours (and extended), else 0.
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

# KEYS: lease. ARGV: our lease value. Deletes it only if it is still ours.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
