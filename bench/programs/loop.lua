-- A 10-million-step while loop summing integers, at top level.
-- Globals, as in the Python and mp versions (a Lua `local` here would make
-- this the same as loopfn).
n = tonumber(arg[1]) or 10000000
i = 0
s = 0
while i < n do
  s = s + i
  i = i + 1
end
print(s)
