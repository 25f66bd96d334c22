-- List work: push 1M ints, read them back by index, sum, sort a copy.
-- Lua has no built-in sum or sorted(): a summing loop and a copy loop stand in.
local n = tonumber(arg[1]) or 1000000
local function run(n)
  local xs = {}
  local i = 0
  while i < n do
    xs[#xs + 1] = (i * 7919) % 1000003
    i = i + 1
  end
  local total = 0
  i = 0
  while i < n do
    total = total + xs[i + 1]
    i = i + 1
  end
  local total2 = 0
  for _, x in ipairs(xs) do total2 = total2 + x end
  local ys = table.move(xs, 1, n, 1, {})
  table.sort(ys)
  return string.format("[%d, %d, %d, %d, %d]", total, total2, ys[1], ys[n // 2 + 1], ys[n])
end
print(run(n))
