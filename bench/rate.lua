-- A fixed request rate for wrk, which in Debian has no -R: each connection waits BENCH_DELAY_MS
-- (a fraction allowed) before each request, so N connections send about N * 1000 / (delay + latency)
-- requests a second. wrk takes whole milliseconds, so the fraction is kept on average by rounding
-- each delay up with a probability equal to it.
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "")
assert(delay_ms and delay_ms >= 0, "set BENCH_DELAY_MS to the delay before each request, in ms")
local whole = math.floor(delay_ms)
local fraction = delay_ms - whole

function init(args)
  math.randomseed(os.time())
end

function delay()
  if math.random() < fraction then return whole + 1 end
  return whole
end
