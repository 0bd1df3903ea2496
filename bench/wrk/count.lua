-- Stop each thread after BENCH_REQUESTS replies, so a run is bounded in count.
local limit = tonumber(os.getenv("BENCH_REQUESTS") or "1000")
local seen = 0
function response(status, headers, body)
  seen = seen + 1
  if seen >= limit then
    wrk.thread:stop()
  end
end
