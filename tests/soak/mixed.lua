-- The soak's mixed load: 90 % reads, 10 % deploys, every answer checked.
-- usage: wrk ... -s mixed.lua URL -- ENVIRONMENT VERSIONS SERVICES BASE
--   reads: GET /services of a random one of the first VERSIONS system
--     versions, the current list, /status, a page of /systemversions, one
--     /systemversions/N, a /diff; deploys: a random service of SERVICES at
--     version BASE + id * 1e9 + k (k counts this thread's deploys), so
--     every deploy is a change.
-- Each answer other than 200 is counted (non200); done() prints BENCH lines.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "../bench/report.lua")

local environment, versions, services, base
local headers = { ["Content-Type"] = "application/json" }
local counter = 0

function init(args)
   environment, versions = args[1], tonumber(args[2])
   services, base = tonumber(args[3]), tonumber(args[4])
   math.randomseed(os.time() + 7919 * id)
end

local function get(path)
   return wrk.format("GET", path .. (path:find("?", 1, true) and "&" or "?")
                     .. "environment=" .. environment)
end

function request()
   local r = math.random(100)
   if r <= 10 then
      counter = counter + 1
      local body = string.format(
         '{"name":"svc-%03d","version":%.0f,"environment":"%s","reason":"soak"}',
         math.random(services) - 1, base + id * 1e9 + counter, environment)
      return wrk.format("POST", "/deploy", headers, body)
   end
   local n = math.random(versions)
   if r <= 50 then
      return get("/services?systemVersion=" .. n)
   elseif r <= 60 then
      return get("/services")
   elseif r <= 70 then
      return get("/status")
   elseif r <= 80 then
      return get("/systemversions?limit=20&before=" .. (n + 1))
   elseif r <= 90 then
      return get("/systemversions/" .. n)
   end
   return get("/diff?from=" .. n .. "&to=" .. math.random(versions))
end

count_non200()
