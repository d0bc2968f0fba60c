-- Shared by every workload of tests/bench/bench.py: numbers the wrk
-- threads (global `id` in each thread: 0, 1, ...) and, when wrk is done,
-- prints "BENCH key value" lines: counts, socket errors by kind, answers
-- with a status >= 400 (wrk's own count), answers other than 200 and 200s
-- with another Deploy-Outcome than the script expects (counted by scripts
-- that call count_non200() or count_outcomes()), and latency percentiles
-- in microseconds.

local threads = {}
non200 = 0
unexpected = 0
expected_outcome = nil

-- Makes this thread count every answer other than 200 (non200). Scripts
-- that want it call it at their top level (wrk looks for a response()
-- hook in the script as loaded, before init()); the others skip the cost
-- of one.
function count_non200()
   count_outcomes()
end

-- count_non200(), and also every 200 whose Deploy-Outcome header is not
-- expected_outcome (unexpected), when init() has set that global.
function count_outcomes()
   response = function(status, headers, body)
      if status ~= 200 then
         non200 = non200 + 1
      elseif expected_outcome and
         (headers["Deploy-Outcome"] or headers["deploy-outcome"]) ~= expected_outcome then
         unexpected = unexpected + 1
      end
   end
end

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function done(summary, latency, requests)
   local non200, unexpected = 0, 0
   for _, thread in ipairs(threads) do
      non200 = non200 + (thread:get("non200") or 0)
      unexpected = unexpected + (thread:get("unexpected") or 0)
   end
   local e = summary.errors
   local figures = {
      requests = summary.requests, duration_us = summary.duration,
      bytes = summary.bytes, connect_errors = e.connect,
      read_errors = e.read, write_errors = e.write, timeouts = e.timeout,
      status_errors = e.status, non200 = non200, unexpected = unexpected,
      p50_us = latency:percentile(50), p99_us = latency:percentile(99),
      max_us = latency.max,
   }
   for key, value in pairs(figures) do
      io.write(string.format("BENCH %s %.0f\n", key, value))
   end
end
