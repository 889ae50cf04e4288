-- POST /api/order/verify, cycling through tokens the service has just issued.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
local tokens = {}
for line in io.lines(os.getenv("TOKENS_FILE")) do
  tokens[#tokens + 1] = line
end
local next_token = 0
request = function()
  next_token = next_token % #tokens + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"},
    '{"jwt": "' .. tokens[next_token] .. '"}')
end
