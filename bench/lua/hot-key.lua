-- sysbench script for the hot-key benchmark: every thread hits one post.
--
--   --mode=increment   UPDATE post_metrics SET like_count = like_count + 1 WHERE post_id = P
--   --mode=like        INSERT INTO likes (post_id, user_id) VALUES (P, <unique user>)
--   --mode=read-counter SELECT like_count FROM post_metrics WHERE post_id = P
--   --mode=read-likes  SELECT COUNT(*) FROM likes WHERE post_id = P
--   --post=P           the post id
--   --user-base=N      first user id of this run (keeps users unique across runs)
--
-- Statements are server-side prepared (sysbench's MySQL driver prepares them), so the proxy routes
-- the bound values.

sysbench.cmdline.options = {
  mode = {"increment, like, read-counter or read-likes", "increment"},
  post = {"post id", 42},
  ["user-base"] = {"first user id of this run", 1000000000},
}

local sql = {
  increment = "UPDATE post_metrics SET like_count = like_count + 1 WHERE post_id = ?",
  like = "INSERT INTO likes (post_id, user_id) VALUES (?, ?)",
  ["read-counter"] = "SELECT like_count FROM post_metrics WHERE post_id = ?",
  ["read-likes"] = "SELECT COUNT(*) FROM likes WHERE post_id = ?",
}

function thread_init()
  drv = sysbench.sql.driver()
  con = drv:connect()
  local text = sql[sysbench.opt.mode]
  if text == nil then
    error("unknown --mode " .. sysbench.opt.mode)
  end
  stmt = con:prepare(text)
  post = stmt:bind_create(sysbench.sql.type.BIGINT)
  if sysbench.opt.mode == "like" then
    user = stmt:bind_create(sysbench.sql.type.BIGINT)
    stmt:bind_param(post, user)
  else
    stmt:bind_param(post)
  end
  next_user = sysbench.opt.user_base + sysbench.tid * 100000000
end

function event()
  post:set(sysbench.opt.post)
  if sysbench.opt.mode == "like" then
    next_user = next_user + 1
    user:set(next_user)
  end
  stmt:execute()
end

function thread_done()
  stmt:close()
  con:disconnect()
end
