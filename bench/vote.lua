-- wrk script for bench/load.py: ballot submissions, each POST a distinct voter.
-- Usage: wrk -tN ... -s bench/vote.lua http://127.0.0.1:PORT -- LINES_FILE DELAY_MS N
-- LINES_FILE (bench/bulk_load.py --vote-lines): "cookie<TAB>path<TAB>form body" per line.
-- Thread k of n takes lines k, k+n, k+2n...: no line is sent twice. A thread that runs out
-- of lines sends GET /sante-not-a-vote (counted as "exhausted", never as a vote).
-- Counts: "recorded" = 200 with the receipt page (id="receipt", not a replay); "other" = all
-- other answers (a redirect with a flash, a replay, an error).

local threads = {}
local counter = 0

function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function init(args)
   lines = {}
   for line in io.lines(args[1]) do
      local cookie, path, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      table.insert(lines, {cookie, path, body})
   end
   pace = tonumber(args[2] or "0")
   step = tonumber(args[3] or "2")  -- wrk's -t
   idx = tid + 1
   recorded, other, exhausted, sent = 0, 0, 0, 0
end

function delay()
   return pace
end

function request()
   local l = lines[idx]
   if l == nil then
      exhausted = exhausted + 1
      return wrk.format("GET", "/sante-not-a-vote")
   end
   idx = idx + step
   sent = sent + 1
   return wrk.format("POST", l[2], {
      ["Cookie"] = l[1],
      ["Content-Type"] = "application/x-www-form-urlencoded",
   }, l[3])
end

function response(status, headers, body)
   if status == 200 and body:find('id="receipt"', 1, true)
      and not body:find("already been received", 1, true)
      and not body:find("déjà été reçue", 1, true) then
      recorded = recorded + 1
   else
      other = other + 1
   end
end

function done(summary, latency, requests)
   local r, o, e, s = 0, 0, 0, 0
   for _, t in ipairs(threads) do
      r = r + t:get("recorded")
      o = o + t:get("other")
      e = e + t:get("exhausted")
      s = s + t:get("sent")
   end
   io.write(string.format("VOTES recorded=%d other=%d exhausted=%d sent=%d\n", r, o, e, s))
end
