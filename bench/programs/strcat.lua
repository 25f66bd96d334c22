-- Appending to one string with .. (100k appends of two characters).
-- Lua strings are immutable: each append copies the string.
local n = tonumber(arg[1]) or 100000
local function run(n)
  local s = ""
  local i = 0
  while i < n do
    s = s .. "ab"
    i = i + 1
  end
  return #s
end
print(run(n))
