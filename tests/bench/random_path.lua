-- GET PREFIX..N for N drawn uniformly from 1..COUNT on every request.
-- usage: wrk ... -s random_path.lua URL -- PREFIX COUNT
-- (PREFIX, e.g. "/services?environment=E&systemVersion=")

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local pool = {}

function init(args)
   local prefix, count = args[1], tonumber(args[2])
   math.randomseed(os.time() + 7919 * (id or 0))
   for n = 1, count do
      pool[n] = wrk.format("GET", prefix .. n)
   end
end

function request()
   return pool[math.random(#pool)]
end
