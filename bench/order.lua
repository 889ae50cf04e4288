-- POST /api/order exactly as the pizza backend sends it (body in order.body.json).
local dir = os.getenv("BENCH_DIR")
dofile(dir .. "/report.lua")
local body_file = io.open(dir .. "/order.body.json")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["authorization"] = "Bearer " .. (os.getenv("API_KEY") or "")
wrk.body = body_file:read("*a")
body_file:close()
