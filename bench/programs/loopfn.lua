-- The same 10-million-step loop inside a function (locals).
local n = tonumber(arg[1]) or 10000000
local function run(n)
  local i = 0
  local s = 0
  while i < n do
    s = s + i
    i = i + 1
  end
  return s
end
print(run(n))
