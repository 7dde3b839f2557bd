-- authorize (capture manual) -> capture -> refund, chained per payment.
-- wrk gives response() no connection identity, so each thread keeps a queue of
-- next calls: a 201 "authorized" queues its capture, a 200 "captured" its refund,
-- a 200 "refunded" completes the payment. With nothing queued, a new authorize.

queue = {}
first = 1
last = 0

local function push(kind, id)
  last = last + 1
  queue[last] = { kind, id }
end

local function pop()
  if first > last then
    return nil
  end
  local step = queue[first]
  queue[first] = nil
  first = first + 1
  return step
end

function request()
  local headers = post_headers(CONFIG.token, next_key())
  local step = pop()
  if step == nil then
    return wrk.format("POST", "/v1/payments", headers, CONFIG.body)
  elseif step[1] == "capture" then
    return wrk.format("POST", "/v1/payments/" .. step[2] .. "/capture", headers, "{}")
  end
  return wrk.format("POST", "/v1/payments/" .. step[2] .. "/refunds", headers, "{}")
end

-- Operation statuses are pending/succeeded/failed, so these only match the payment's.
local function has_status(body, value)
  return string.find(body, '"status"%s*:%s*"' .. value .. '"') ~= nil
end

function on_response(status, headers, body)
  local id = string.match(body, '"id"%s*:%s*"(pay_[^"]+)"')
  if id == nil then
    return false
  end
  if status == 201 and has_status(body, "authorized") then
    push("capture", id)
  elseif status == 200 and has_status(body, "captured") then
    push("refund", id)
  elseif status == 200 and has_status(body, "refunded") then
    completed = completed + 1
  else
    return false
  end
  return true
end
