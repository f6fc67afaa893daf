-- patterns.lua N -- table and string churn in Lua 5.4, whose every
-- allocation is one realloc-shaped call (lua_Alloc over realloc/free): a
-- window of small tables, an array grown one slot at a time, strings built
-- by concatenation, closures. heapbench's `lua` program computes each
-- printed value from N on its own (workloads/programs/lua.c).
local n = tonumber(arg[1])

local window, total = {}, 0
for i = 0, n - 1 do
  local k = i % 1024
  local old = window[k]
  if old then total = total + #old.s + #old.t end
  window[k] = { i = i, s = string.rep("y", i % 200), t = { i, i + 1, i + 2 } }
end
print("window=" .. total)

local arr = {}
for i = 1, n do arr[i] = i end
local sum = 0
for i = 1, n do sum = sum + arr[i] end
print("sum=" .. sum)

local parts = {}
for i = 1, n // 8 do parts[#parts + 1] = tostring(i) end
print("len=" .. #table.concat(parts, ","))

local acc = 0
for i = 1, n // 4 do
  local f = function(x) return x + i end
  acc = acc + f(1) - i
end
print("closures=" .. acc)
