-- Shared by both scripts: key expiries are set once per key at the end of a script (the longest
-- asked for), not once per call, since a batch touches the same keys many times. A key that
-- does not exist then is left alone by PEXPIRE.
local keepUntil = {}
local function keepFor(key, ms)
  if (keepUntil[key] or -1) < ms then keepUntil[key] = ms end
end
local function applyKeeps()
  for key, ms in pairs(keepUntil) do redis.call('PEXPIRE', key, ms) end
end
