-- wrk script of bench/load: spreads requests over the users, tasks and
-- tokens of a data file that the harness writes for each run.
--
--   wrk -s load.lua URL -- DATAFILE MODE PREFIX THREADS
--
-- Each thread takes every THREADS-th line of DATAFILE (disjoint slices, so
-- no two threads ever touch the same task or token; static and idem lines
-- are shared when there are fewer lines than threads). MODE says what a line
-- is and how requests are made from it:
--
--   static   METHOD \t PATH \t BODY \t HEADER... ; each thread cycles through
--            its lines, requests built once
--   idem     as static, plus an Idempotency-Key unique per request
--            (PREFIX-thread-counter)
--   patch    TASKID \t VERSION \t AUTHHEADER ; a PATCH with If-Match of the
--            task's current version. A task is in flight on one connection
--            at a time: the response's id and version put it back in the
--            queue with its new version.
--   refresh  REFRESHTOKEN ; each token is sent once; the response's new
--            token goes back in the queue (a chain per session).
--
-- A response that is not 200 loses its task or token (wrk does not say
-- which connection answered); the queues hold many more than the
-- connections, and every such answer is counted as an error anyway. An
-- empty queue sends a request that fails, so it shows.
--
-- done() prints one "BENCH key=value ..." line for the harness.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local mode, prefix
local reqs, nreqs, idx = {}, 0, 0
local lines = {}
local queue, qhead, qtail = {}, 1, 0
local byid = {}
local n = 0

local function split(s)
  local out = {}
  for field in (s .. "\t"):gmatch("([^\t]*)\t") do
    table.insert(out, field)
  end
  return out
end

local function push(e)
  qtail = qtail + 1
  queue[qtail] = e
end

local function pop()
  if qhead > qtail then
    return nil
  end
  local e = queue[qhead]
  queue[qhead] = nil
  qhead = qhead + 1
  return e
end

local function headers_of(f, from)
  local h = {}
  for i = from, #f do
    local name, value = f[i]:match("^([^:]+):%s*(.*)$")
    if name then
      h[name] = value
    end
  end
  return h
end

function init(args)
  local file, nthreads = args[1], tonumber(args[4])
  mode, prefix = args[2], args[3]
  local all = {}
  for line in io.lines(file) do
    if line ~= "" then
      table.insert(all, split(line))
    end
  end
  for i, f in ipairs(all) do
    if (i - 1) % nthreads == tid then
      table.insert(lines, f)
    end
  end
  if #lines == 0 and (mode == "static" or mode == "idem") then
    lines = all -- fewer lines than threads: reads may share them
  end
  if #lines == 0 then
    error("no lines for thread " .. tid .. " in " .. file)
  end
  if mode == "static" then
    for _, f in ipairs(lines) do
      local body = f[3]
      if body == "" then
        body = nil
      end
      table.insert(reqs, wrk.format(f[1], f[2], headers_of(f, 4), body))
    end
    nreqs = #reqs
    idx = (tid * 7919) % nreqs -- threads start at different lines
  elseif mode == "idem" then
    for _, f in ipairs(lines) do
      f.headers = headers_of(f, 4)
    end
  elseif mode == "patch" then
    for _, f in ipairs(lines) do
      local name, value = f[3]:match("^([^:]+):%s*(.*)$")
      local e = { id = f[1], version = tonumber(f[2]), auth_name = name, auth_value = value }
      byid[e.id] = e
      push(e)
    end
    response = function(status, headers, body)
      if status ~= 200 then
        return
      end
      local id = body:match('"id":"([%x%-]+)"')
      local version = body:match('"version":(%d+)')
      local e = id and byid[id]
      if e and version then
        e.version = tonumber(version)
        push(e)
      end
    end
  elseif mode == "refresh" then
    for _, f in ipairs(lines) do
      push(f[1])
    end
    response = function(status, headers, body)
      if status ~= 200 then
        return
      end
      local token = body:match('"refresh_token":"([^"]+)"')
      if token then
        push(token)
      end
    end
  else
    error("unknown mode " .. tostring(mode))
  end
end

function request()
  n = n + 1
  if mode == "static" then
    idx = idx % nreqs + 1
    return reqs[idx]
  elseif mode == "idem" then
    idx = idx % #lines + 1
    local f = lines[idx]
    local h = {}
    for k, v in pairs(f.headers) do
      h[k] = v
    end
    h["Idempotency-Key"] = prefix .. "-" .. tid .. "-" .. n
    local body = f[3]
    if body == "" then
      body = nil
    end
    return wrk.format(f[1], f[2], h, body)
  elseif mode == "patch" then
    local e = pop()
    if not e then
      -- Every task is in flight: a request that fails (412) and shows.
      e = byid[lines[1][1]]
      return wrk.format("PATCH", "/v1/todos/" .. e.id,
        { ["Content-Type"] = "application/json", ["If-Match"] = '"v0"', [e.auth_name] = e.auth_value },
        '{"title":"starved"}')
    end
    return wrk.format("PATCH", "/v1/todos/" .. e.id,
      { ["Content-Type"] = "application/json", ["If-Match"] = '"v' .. e.version .. '"', [e.auth_name] = e.auth_value },
      '{"title":"bench edit ' .. n .. '"}')
  else -- refresh
    local token = pop() or "mbr_starved"
    return wrk.format("POST", "/v1/auth/refresh", { ["Content-Type"] = "application/json" },
      '{"refresh_token":"' .. token .. '"}')
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
