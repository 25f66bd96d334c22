-- Map work: insert 200k string keys and 200k int keys, look every key up.
local n = tonumber(arg[1]) or 200000
local function run(n)
  local m = {}
  local i = 0
  while i < n do
    m["k" .. i] = i
    i = i + 1
  end
  local t = {}
  i = 0
  while i < n do
    t[i * 31] = i
    i = i + 1
  end
  local total = 0
  i = 0
  while i < n do
    total = total + m["k" .. i] + t[i * 31]
    i = i + 1
  end
  local lm, lt = 0, 0
  for _ in pairs(m) do lm = lm + 1 end
  for _ in pairs(t) do lt = lt + 1 end
  return string.format("[%d, %d, %d]", lm, lt, total)
end
print(run(n))
