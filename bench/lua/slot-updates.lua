-- sysbench script: non-idempotent point updates (UPDATE sbtest1 SET k = k + 1 WHERE id = ?) on ids
-- chosen by their Shardgate slot, so that a benchmark can load only the slots that stay where they
-- are during a migration, only the moving ones, or all of them.
--
--   --slots=4096 --slot-from=A --slot-to=B --mode=stay|move|all --table-size=N
--
-- The slot is Shardgate's crc32c-v1: CRC32C of the id's decimal text, modulo the slot count.
local bit = require("bit")

sysbench.cmdline.options = {
  ["table-size"] = {"rows in sbtest1 (ids 1..N)", 10000},
  slots = {"slots of the cluster", 4096},
  ["slot-from"] = {"first slot of the moving range", 0},
  ["slot-to"] = {"last slot of the moving range", -1},
  mode = {"stay: ids outside the range; move: inside; all: any", "all"},
}

local crc_table = {}
for i = 0, 255 do
  local c = i
  for _ = 1, 8 do
    if bit.band(c, 1) == 1 then
      c = bit.bxor(bit.rshift(c, 1), 0x82F63B78)
    else
      c = bit.rshift(c, 1)
    end
  end
  crc_table[i] = c
end

local function slot_of(id)
  local s = tostring(id)
  local c = -1
  for i = 1, #s do
    c = bit.bxor(crc_table[bit.band(bit.bxor(c, s:byte(i)), 0xFF)], bit.rshift(c, 8))
  end
  c = bit.bnot(c)
  if c < 0 then
    c = c + 4294967296
  end
  return c % sysbench.opt.slots
end

local function wanted(id)
  if sysbench.opt.mode == "all" then
    return true
  end
  local slot = slot_of(id)
  local inside = slot >= sysbench.opt.slot_from and slot <= sysbench.opt.slot_to
  if sysbench.opt.mode == "move" then
    return inside
  end
  return not inside
end

function thread_init()
  drv = sysbench.sql.driver()
  con = drv:connect()
  stmt = con:prepare("UPDATE sbtest1 SET k = k + 1 WHERE id = ?")
  param = stmt:bind_create(sysbench.sql.type.INT)
  stmt:bind_param(param)
end

function event()
  local id
  repeat
    id = sysbench.rand.uniform(1, sysbench.opt.table_size)
  until wanted(id)
  param:set(id)
  stmt:execute()
end

function thread_done()
  stmt:close()
  con:disconnect()
end
