-- GET /v1/payments/{id} over a pool of payments created before the run: 200 expected.
-- Also the ratelimited scenario (with a low-limit key, CONFIG.allow_429): 200 or 429.

local requests = {}
local n = 0

function init(args)
  local headers = auth_headers(CONFIG.token)
  for i, id in ipairs(CONFIG.ids) do
    requests[i] = wrk.format("GET", "/v1/payments/" .. id, headers)
  end
  n = tid * 7 -- threads start at different places in the pool
end

function request()
  n = n + 1
  return requests[n % #requests + 1]
end

function on_response(status, headers, body)
  return status == 200 or (CONFIG.allow_429 and status == 429)
end
