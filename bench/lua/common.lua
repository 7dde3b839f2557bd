-- Shared by every scenario. bench/wrk.py concatenates: the generated CONFIG table,
-- this file, then the scenario's own script (which defines request() and
-- on_response()). Each wrk thread runs its own copy of the script: the counters
-- below are per thread; done() (in wrk's main state) sums them via thread:get().

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

-- Per-thread state.
tid = 0            -- set by setup() before init()
statuses = {}      -- HTTP status (as a string) -> responses
unexpected = 0     -- responses on_response() did not expect
completed = 0      -- scenario-defined (lifecycle: payments taken through refund)
seq = 0

-- A key unique to this run, thread and request.
function next_key()
  seq = seq + 1
  return CONFIG.prefix .. "-" .. tid .. "-" .. seq
end

function auth_headers(token)
  return { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
end

function post_headers(token, key)
  local headers = auth_headers(token)
  headers["Idempotency-Key"] = key
  return headers
end

-- Header lookup regardless of the case the server sent.
function header(headers, name)
  local want = string.lower(name)
  for key, value in pairs(headers) do
    if string.lower(key) == want then
      return value
    end
  end
  return nil
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if not on_response(status, headers, body) then
    unexpected = unexpected + 1
  end
end

local function encode(value)
  local kind = type(value)
  if kind == "table" then
    local parts = {}
    for k, v in pairs(value) do
      table.insert(parts, string.format("%q:%s", tostring(k), encode(v)))
    end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif kind == "number" then
    if value ~= value or value == math.huge or value == -math.huge then
      return "null"
    end
    return string.format("%.17g", value)
  elseif kind == "string" then
    return string.format("%q", value)
  elseif kind == "boolean" then
    return tostring(value)
  end
  return "null"
end

function done(summary, latency, requests)
  local all = {}
  local total_unexpected, total_completed = 0, 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      all[status] = (all[status] or 0) + count
    end
    total_unexpected = total_unexpected + thread:get("unexpected")
    total_completed = total_completed + thread:get("completed")
  end
  local errors = summary.errors
  local result = {
    requests = summary.requests,
    duration_us = summary.duration,
    bytes = summary.bytes,
    errors = {
      connect = errors.connect,
      read = errors.read,
      write = errors.write,
      timeout = errors.timeout,
      status = errors.status,
      unexpected = total_unexpected,
    },
    statuses = all,
    completed = total_completed,
    latency_us = {
      p50 = latency:percentile(50),
      p90 = latency:percentile(90),
      p99 = latency:percentile(99),
      mean = latency.mean,
      max = latency.max,
    },
  }
  io.write("BENCH_RESULT " .. encode(result) .. "\n")
end
