-- POST /v1/payments repeating ONE completed request (same Idempotency-Key, same
-- body): 201 with Idempotent-Replayed: true expected, nothing executed again.

local prepared

function init(args)
  prepared = wrk.format(
    "POST", "/v1/payments", post_headers(CONFIG.token, CONFIG.replay_key), CONFIG.body
  )
end

function request()
  return prepared
end

function on_response(status, headers, body)
  return status == 201 and header(headers, "Idempotent-Replayed") == "true"
end
