-- KEYS: a marker for this hand-back, then budget hashes. ARGV: the marker's lifetime, then an
-- amount per hash. Adds spend settled locally while Redis was away, once per marker: sent
-- again after a lost reply, it adds nothing.
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
for i = 2, #KEYS do
  if redis.call('HEXISTS', KEYS[i], 'spent') == 1 then redis.call('HINCRBY', KEYS[i], 'spent', tonumber(ARGV[i])) end
end
return 1
