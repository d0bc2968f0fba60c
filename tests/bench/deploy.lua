-- POST /deploy to ENVIRONMENT, checking that every answer is a 200.
-- usage: wrk ... -s deploy.lua URL -- ENVIRONMENT SERVICES MODE BASE
--   MODE change: a random service among svc-000..svc-(SERVICES-1), at
--     version BASE + id * 1e9 + k, k counting this thread's requests: the
--     threads' spaces are disjoint and BASE differs between wrk runs, so
--     every request differs from the service's current version.
--   MODE same: svc-000 at version BASE on every request (no change once
--     it has been deployed).

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local environment, services, mode, base
local headers = { ["Content-Type"] = "application/json" }
local counter = 0
local same

local function body(service, version)
   return string.format('{"name":"svc-%03d","version":%.0f,"environment":"%s"}',
                        service, version, environment)
end

function init(args)
   environment, services, mode, base = args[1], tonumber(args[2]), args[3], tonumber(args[4])
   math.randomseed(os.time() + 7919 * id)
   same = wrk.format("POST", "/deploy", headers, body(0, base))
end

function request()
   if mode == "same" then
      return same
   end
   counter = counter + 1
   local version = base + id * 1e9 + counter
   return wrk.format("POST", "/deploy", headers,
                     body(math.random(services) - 1, version))
end

count_non200()
