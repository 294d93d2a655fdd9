-- tokens.lua — wrk script: every request carries the next token of the
-- file $TOKENS_FILE (one per line), each thread starting at its own place.
local tokens = {}
for line in io.lines(os.getenv("TOKENS_FILE")) do
    if #line > 0 then tokens[#tokens + 1] = line end
end
local n, i = 0, 0
function setup(thread)
    n = n + 1
    thread:set("start", n * 7919)
end
function init(args)
    i = (start or 0) % #tokens
end
function request()
    i = i % #tokens + 1
    return wrk.format("GET", nil, {["X-Auth-Token"] = tokens[i]})
end
