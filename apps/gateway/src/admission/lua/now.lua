-- Time in the scripts is Redis's own (TIME, in ms): instances with skewed clocks share one
-- window. Per scope, five keys: a hash (`spent`, `period`, `reserved`, `tokens`, `r:<id>` =
-- amount held, `t:<id>` = tokens of a settled call), the calls in flight (zset: id → lapse
-- time), the calls admitted (zset: id → time), the calls whose tokens count (zset: id → time)
-- and the calls whose reservation lapsed before they settled (zset: id → lapse time).
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
