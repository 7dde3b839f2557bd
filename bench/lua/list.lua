-- GET /v1/payments?limit=50 (enough payments exist by then): 200 expected.

local prepared

function init(args)
  prepared = wrk.format("GET", "/v1/payments?limit=50", auth_headers(CONFIG.token))
end

function request()
  return prepared
end

function on_response(status, headers, body)
  return status == 200
end
