-- POST /deploy to ENVIRONMENT, checking that every answer is a 200 with
-- the Deploy-Outcome the mode expects (others are counted as unexpected).
-- usage: wrk ... -s deploy.lua URL -- ENVIRONMENT SERVICES MODE BASE [THREADS]
--   MODE change: a random service among svc-000..svc-(SERVICES-1), at
--     version BASE + id * 1e9 + k, k counting this thread's requests: the
--     threads' spaces are disjoint and BASE differs between wrk runs, so
--     every request differs from the service's current version (applied).
--   MODE keyed: change, with the key a careful watcher sends: an eventId
--     shaped like a random UUID (36 bytes, unique: its last field is the
--     version) and a sequence, the version itself. A report sent after
--     another of its service but answered before it would be stale, so
--     each of the THREADS threads deploys its own services (those whose
--     number is its id modulo THREADS), in turn, skipping those whose
--     report is still unanswered: a service's next report leaves only
--     once its last one was answered, as a watcher that sends a service's
--     reports in order would do. URL must be /bench/deploy-keyed, which
--     answers a request's Bench-Service header back.
--   MODE same: svc-000 at version BASE on every request (no change once
--     it has been deployed: unchanged).

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local environment, services, mode, base, threads
local headers = { ["Content-Type"] = "application/json" }
local keyed_headers = { ["Content-Type"] = "application/json", ["Bench-Service"] = "" }
local counter = 0
local owned = {}       -- keyed: this thread's services
local next_owned = 1   -- keyed: where the turn goes on in owned
local in_flight = {}   -- keyed: service -> true while its report is unanswered
local same

local function body(service, version)
   return string.format('{"name":"svc-%03d","version":%.0f,"environment":"%s"}',
                        service, version, environment)
end

-- A version 4 UUID's shape and length: random hex, the version in the
-- last 12 digits (below 16^12) so that no two requests share one.
local function event_id(version)
   return string.format("%04x%04x-%04x-4%03x-%x%03x-%012x",
                        math.random(0, 0xffff), math.random(0, 0xffff),
                        math.random(0, 0xffff), math.random(0, 0xfff),
                        math.random(8, 11), math.random(0, 0xfff), version)
end

local function keyed_body(service, version)
   return string.format('{"name":"svc-%03d","version":%.0f,"environment":"%s",'
                        .. '"eventId":"%s","sequence":%.0f}',
                        service, version, environment, event_id(version), version)
end

-- The next of owned, in turn, whose last report was answered.
local function next_service()
   for _ = 1, #owned do
      local service = owned[next_owned]
      next_owned = next_owned % #owned + 1
      if not in_flight[service] then
         return service
      end
   end
   error("deploy.lua: every service of thread " .. id .. " has a report in flight")
end

function init(args)
   environment, services, mode, base = args[1], tonumber(args[2]), args[3], tonumber(args[4])
   threads = tonumber(args[5]) or 1
   math.randomseed(os.time() + 7919 * id)
   same = wrk.format("POST", "/deploy", headers, body(0, base))
   for service = id, services - 1, threads do
      table.insert(owned, service)
   end
   if mode == "keyed" and #owned == 0 then
      error("deploy.lua: thread " .. id .. " has no service of its own")
   end
   expected_outcome = mode == "same" and "unchanged" or "applied"
end

function request()
   if mode == "same" then
      return same
   end
   counter = counter + 1
   local version = base + id * 1e9 + counter
   if mode == "keyed" then
      local service = next_service()
      in_flight[service] = true
      keyed_headers["Bench-Service"] = tostring(service)
      return wrk.format("POST", nil, keyed_headers, keyed_body(service, version))
   end
   return wrk.format("POST", "/deploy", headers,
                     body(math.random(services) - 1, version))
end

count_outcomes()
local count = response
response = function(status, headers, body)
   if mode == "keyed" then
      local service = tonumber(headers["Bench-Service"] or headers["bench-service"])
      if service then
         in_flight[service] = nil
      end
   end
   count(status, headers, body)
end
