-- String building: 200k formatted pieces appended to a table, then joined.
local n = tonumber(arg[1]) or 200000
local function run(n)
  local parts = {}
  local i = 0
  while i < n do
    parts[#parts + 1] = "item" .. i .. ":" .. (i * 3)
    i = i + 1
  end
  local joined = table.concat(parts, ",")
  return #joined
end
print(run(n))
