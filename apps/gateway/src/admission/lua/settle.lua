-- Settles several calls (those that ended in one turn of the event loop). KEYS: five per scope
-- of each call in turn, as above. ARGV: idle ttl, then per call: its number of scopes, request
-- id, actual cost, tokens, whether it was a call admitted ahead that never came (1/0: it leaves
-- the request window too), then per scope whether its tokens count (1/0). A call's cost and
-- tokens count once: while it is held or lapsed unsettled; a second settlement (sent again
-- after a lost reply) finds neither. Returns per call each scope's spend after (-1: no budget
-- counter). A scope whose tokens were counted lives at least `idle` longer, its token window too.
local idle = tonumber(ARGV[1])
local counted = {}
local replies = {}
local k, a = 0, 2
while a <= #ARGV do
  local scopes, id, actual, tokens = tonumber(ARGV[a]), ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local unused = ARGV[a + 4] == '1'
  local after = {}
  for i = 1, scopes do
    local state, held, toks, lapsed = KEYS[k + 5 * i - 4], KEYS[k + 5 * i - 3], KEYS[k + 5 * i - 1], KEYS[k + 5 * i]
    if unused then redis.call('ZREM', KEYS[k + 5 * i - 2], id) end
    local open = redis.call('ZREM', held, id) == 1
    if redis.call('ZREM', lapsed, id) == 1 then open = true end
    local h = redis.call('HMGET', state, 'r:' .. id, 'spent')
    if h[1] then
      redis.call('HINCRBY', state, 'reserved', -tonumber(h[1]))
      redis.call('HDEL', state, 'r:' .. id)
    end
    local spent = h[2] and tonumber(h[2]) or -1
    if open then
      if h[2] then spent = redis.call('HINCRBY', state, 'spent', actual) end
      if ARGV[a + 4 + i] == '1' and tokens > 0 and redis.call('HSETNX', state, 't:' .. id, tokens) == 1 then
        redis.call('HINCRBY', state, 'tokens', tokens)
        redis.call('ZADD', toks, now, id)
        counted[state] = toks
      end
    end
    after[i] = spent
  end
  replies[#replies + 1] = after
  k = k + 5 * scopes
  a = a + 5 + scopes
end
for state, toks in pairs(counted) do
  local keep = math.max(idle, redis.call('PTTL', state))
  keepFor(state, keep)
  keepFor(toks, keep)
end
applyKeeps()
return replies
