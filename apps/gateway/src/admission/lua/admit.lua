-- Checks several calls (those that arrived in one turn of the event loop), each as if alone,
-- in order. KEYS: five per scope of each call in turn. ARGV: reservation ttl, idle ttl, window,
-- then per call: its number of scopes, request id, amount, then per scope: has budget, limit,
-- seed, period, block-at-limit, keep until (ms), rpm, tpm, parallel (-1: none). Returns per
-- call {0, then per scope: requests left, tokens left, spent} or {index, reason, detail, retry ms}.
-- Every command run from a script costs Redis far more than in a pipeline, so a scope's expired
-- entries are cleared once per script (its time does not move), its hash is read in one HMGET,
-- and only what a call changes is written.
local ttl, idle, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tidied = {}
-- Reservations past their time lapse (their cost is added if they still settle); requests and
-- tokens leave the window.
local function tidy(state, held, reqs, toks, lapsed, keep)
  if tidied[state] then return end
  tidied[state] = true
  local expired = redis.call('ZRANGEBYSCORE', held, '-inf', now)
  if #expired > 0 then
    for _, rid in ipairs(expired) do
      local amt = redis.call('HGET', state, 'r:' .. rid)
      if amt then
        redis.call('HINCRBY', state, 'reserved', -tonumber(amt))
        redis.call('HDEL', state, 'r:' .. rid)
      end
      -- Its call may still end: its cost is added when it settles.
      redis.call('ZADD', lapsed, now, rid)
    end
    keepFor(lapsed, keep)
    redis.call('ZREMRANGEBYSCORE', held, '-inf', now)
  end
  redis.call('ZREMRANGEBYSCORE', lapsed, '-inf', now - idle)
  redis.call('ZREMRANGEBYSCORE', reqs, '-inf', now - window)
  local old = redis.call('ZRANGEBYSCORE', toks, '-inf', now - window)
  if #old > 0 then
    for _, rid in ipairs(old) do
      local count = redis.call('HGET', state, 't:' .. rid)
      if count then
        redis.call('HINCRBY', state, 'tokens', -tonumber(count))
        redis.call('HDEL', state, 't:' .. rid)
      end
    end
    redis.call('ZREMRANGEBYSCORE', toks, '-inf', now - window)
  end
end
-- One call: its scopes' keys follow KEYS[k], their arguments ARGV[first].
local function admit(k, first, n, id, amount)
  local remaining = {0}
  for i = 1, n do
    local state, held, reqs, toks, lapsed = KEYS[k + 5 * i - 4], KEYS[k + 5 * i - 3], KEYS[k + 5 * i - 2], KEYS[k + 5 * i - 1], KEYS[k + 5 * i]
    local a = first + (i - 1) * 9
    local hasBudget, limit, seed, period = ARGV[a + 1] == '1', tonumber(ARGV[a + 2]), ARGV[a + 3], tonumber(ARGV[a + 4])
    local atLimit, keep = ARGV[a + 5] == '1', math.max(idle, tonumber(ARGV[a + 6]) - now)
    local rpm, tpm, parallel = tonumber(ARGV[a + 7]), tonumber(ARGV[a + 8]), tonumber(ARGV[a + 9])
    tidy(state, held, reqs, toks, lapsed, keep)
    if parallel >= 0 and redis.call('ZCARD', held) >= parallel then
      return {i, 'max_parallel_requests', parallel, 1000}
    end
    local calls = 0
    if rpm >= 0 then
      calls = redis.call('ZCARD', reqs)
      if calls >= rpm then
        local oldest = redis.call('ZRANGE', reqs, 0, 0, 'WITHSCORES')
        return {i, 'requests', rpm, tonumber(oldest[2] or now) + window - now}
      end
    end
    local h = redis.call('HMGET', state, 'tokens', 'period', 'spent', 'reserved')
    local tokens = tonumber(h[1] or '0')
    if tpm >= 0 and tokens >= tpm then
      local oldest = redis.call('ZRANGE', toks, 0, 0, 'WITHSCORES')
      return {i, 'tokens', tpm, tonumber(oldest[2] or now) + window - now}
    end
    local spent = -1
    if hasBudget then
      if period > tonumber(h[2] or '-1') then
        -- A new period: the database's spend for it starts the counter.
        redis.call('HSET', state, 'spent', seed, 'period', period)
        spent = tonumber(seed)
      elseif not h[3] then
        redis.call('HSET', state, 'spent', seed)
        spent = tonumber(seed)
      else
        spent = tonumber(h[3])
      end
      keepFor(state, keep)
      if amount > 0 then
        local used = spent + tonumber(h[4] or '0')
        if used > limit or (atLimit and used >= limit) then return {i, 'budget', spent, 0} end
      end
    end
    remaining[#remaining + 1] = rpm >= 0 and (rpm - calls - 1) or -1
    remaining[#remaining + 1] = tpm >= 0 and (tpm - tokens) or -1
    remaining[#remaining + 1] = spent
  end
  for i = 1, n do
    local state, held, reqs, toks = KEYS[k + 5 * i - 4], KEYS[k + 5 * i - 3], KEYS[k + 5 * i - 2], KEYS[k + 5 * i - 1]
    local a = first + (i - 1) * 9
    local keep = math.max(idle, tonumber(ARGV[a + 6]) - now)
    -- Every call on a budget leaves r:<id> (even at 0): settling adds its cost only once.
    if ARGV[a + 1] == '1' and redis.call('HSETNX', state, 'r:' .. id, amount) == 1 then
      redis.call('HINCRBY', state, 'reserved', amount)
    end
    redis.call('ZADD', held, now + ttl, id)
    if tonumber(ARGV[a + 7]) >= 0 then redis.call('ZADD', reqs, now, id) end
    for _, key in ipairs({state, held, reqs, toks}) do keepFor(key, keep) end
  end
  return remaining
end
local replies = {}
local k, a = 0, 4
while a <= #ARGV do
  local n = tonumber(ARGV[a])
  replies[#replies + 1] = admit(k, a + 2, n, ARGV[a + 1], tonumber(ARGV[a + 2]))
  k = k + 5 * n
  a = a + 3 + 9 * n
end
applyKeeps()
return replies
