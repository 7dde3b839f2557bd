-- POST /v1/payments, a card charged at once (capture automatic), a new
-- Idempotency-Key per request: 201 expected. Also run against the baseline.

function request()
  return wrk.format("POST", "/v1/payments", post_headers(CONFIG.token, next_key()), CONFIG.body)
end

function on_response(status, headers, body)
  return status == 201
end
