// Shardgate dashboard: polls /api/status every second and draws what it says. No libraries, no network
// beyond this proxy's admin port. When the proxy or ZooKeeper does not answer, the last picture stays and a
// banner says so.
"use strict";
const COLORS = ["#3b7ddd", "#2a9d8f", "#e9c46a", "#f4a261", "#8e6cc9", "#5fa8d3", "#b5838d", "#6a994e"];
const HISTORY = 120;
const qps = [], latency = [];
let previous = null;

function colorOf(shard, shards) {
  const i = shards.indexOf(shard);
  return COLORS[(i < 0 ? 0 : i) % COLORS.length];
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c)));
  return e;
}

function bar(fraction) {
  const outer = el("span", {class: "bar"});
  const inner = el("span");
  inner.style.width = Math.max(0, Math.min(100, fraction * 100)).toFixed(1) + "%";
  outer.append(inner);
  return outer;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

function banner(text) {
  const b = document.getElementById("banner");
  b.textContent = text || "";
  b.classList.toggle("hidden", !text);
}

function draw(canvas, values, unit) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  const max = Math.max(1, ...values);
  ctx.strokeStyle = "#3b7ddd";
  ctx.lineWidth = 2;
  ctx.beginPath();
  values.forEach((v, i) => {
    const x = w - (values.length - 1 - i) * (w / HISTORY);
    const y = h - 14 - (v / max) * (h - 24);
    if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  });
  ctx.stroke();
  ctx.fillStyle = "#5a6272";
  ctx.font = "11px system-ui";
  const last = values.length ? values[values.length - 1] : 0;
  ctx.fillText("now " + last.toFixed(1) + unit + "   max " + max.toFixed(1) + unit, 6, h - 2);
}

function push(series, v) {
  series.push(v);
  if (series.length > HISTORY) series.shift();
}

function render(s) {
  const shardNames = s.shards.map(x => x.name);
  document.getElementById("cluster-name").textContent = s.cluster ? "— cluster " + s.cluster.name + " (" + s.cluster.dialect + ")" : "";
  document.getElementById("proxy-line").textContent = "proxy " + s.proxy.id + " · epoch " + (s.proxy.epoch ?? "none")
      + " · ZooKeeper " + s.proxy.zookeeper + " · " + s.proxy.sessions + " client sessions";
  const problems = [];
  if (!s.zookeeper.connected) problems.push("ZooKeeper: " + s.zookeeper.error + " (showing what was last read)");
  if (s.proxy.zookeeper !== "connected") problems.push("this proxy's ZooKeeper session is " + s.proxy.zookeeper);
  const down = s.shards.filter(x => x.up === false).map(x => x.name);
  if (down.length) problems.push("shards down: " + down.join(", "));
  banner(problems.join(" · "));

  // rates from the difference to the previous answer
  const dt = previous ? (s.proxy.nowMillis - previous.proxy.nowMillis) / 1000 : 0;
  const rate = (now, before) => dt > 0 ? Math.max(0, (now - before) / dt) : 0;
  const prevShard = name => previous ? previous.shards.find(x => x.name === name) : null;
  if (previous && dt > 0) {
    push(qps, rate(s.proxy.statements, previous.proxy.statements));
    let calls = 0, ms = 0;
    for (const sh of s.shards) {
      const p = prevShard(sh.name);
      if (p) { calls += sh.calls - p.calls; ms += sh.totalMillis - p.totalMillis; }
    }
    push(latency, calls > 0 ? ms / calls : 0);
  }
  draw(document.getElementById("qps-chart"), qps, "/s");
  draw(document.getElementById("latency-chart"), latency, " ms");

  fill(document.querySelector("#shards tbody"), s.shards.map(sh => {
    const p = prevShard(sh.name);
    const calls = p ? sh.calls - p.calls : 0;
    const meanMs = calls > 0 ? ((sh.totalMillis - p.totalMillis) / calls).toFixed(2) + " ms" : "–";
    const state = sh.up === true ? "up" : sh.up === false ? "down" : "unknown";
    const pool = sh.pool ? el("span", {}, bar(sh.pool.max ? sh.pool.active / sh.pool.max : 0),
        " " + sh.pool.active + " active / " + sh.pool.idle + " idle / " + sh.pool.waiting + " waiting (max " + sh.pool.max + ")",
        // connections pinned to sessions for their session state are out of the pool until those sessions end
        sh.pool.pinned ? el("span", {class: "pinned", title: Object.entries(sh.pool.pinnedReasons || {})
            .map(([r, n]) => n + " for " + r).join(", ")}, ", " + sh.pool.pinned + " pinned (limit " + sh.pool.pinnedLimit + ")") : "") : "–";
    return el("tr", {"data-shard": sh.name},
        el("td", {}, el("i", {style: "display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;background:"
            + colorOf(sh.name, shardNames)}), sh.name + (sh.spare ? " (spare)" : "")),
        el("td", {}, el("span", {class: "state " + state, title: sh.error || ""}, state)),
        el("td", {}, sh.latencyMillis == null ? "–" : sh.latencyMillis.toFixed(2) + " ms"),
        el("td", {}, meanMs),
        el("td", {}, rate(sh.calls, p ? p.calls : sh.calls).toFixed(1)),
        el("td", {}, pool),
        el("td", {}, sh.slots));
  }));

  document.getElementById("epoch").textContent = s.epoch == null ? "" : "(epoch " + s.epoch + ", " + (s.cluster ? s.cluster.slots : "?") + " slots)";
  const svg = document.getElementById("slot-map");
  const total = s.cluster ? s.cluster.slots : 1;
  const ns = "http://www.w3.org/2000/svg";
  svg.setAttribute("viewBox", "0 0 " + total + " 46");
  svg.replaceChildren(...s.slotRanges.flatMap(r => {
    const rect = document.createElementNS(ns, "rect");
    rect.setAttribute("x", r.from); rect.setAttribute("y", 6);
    rect.setAttribute("width", r.to - r.from + 1); rect.setAttribute("height", 34);
    rect.setAttribute("fill", colorOf(r.shard, shardNames));
    const title = document.createElementNS(ns, "title");
    title.textContent = r.from + "-" + r.to + " " + r.shard + (r.moving ? " moving to " + r.moving.target + " (" + r.moving.phase + ")" : "");
    rect.append(title);
    if (!r.moving) return [rect];
    const mark = document.createElementNS(ns, "rect");
    mark.setAttribute("x", r.from); mark.setAttribute("y", 0);
    mark.setAttribute("width", r.to - r.from + 1); mark.setAttribute("height", 6);
    mark.setAttribute("fill", "#d62828");
    return [rect, mark];
  }));
  document.getElementById("slot-ranges").replaceChildren(...s.slotRanges.map(r => el("span", {class: r.moving ? "moving" : ""},
      el("i", {style: "background:" + colorOf(r.shard, shardNames)}),
      r.from + "-" + r.to + " " + r.shard + (r.moving ? " → " + r.moving.target + " " + r.moving.phase.toLowerCase() : ""))));
  document.getElementById("table-shardings").replaceChildren(...s.tableShardings.map(t => el("div", {class: "moving"},
      "sharding " + t.tables.join(", ") + " from " + t.home + ": " + t.slotsAtHome + " slots at home, " + t.slotsMoving + " moving")));

  fill(document.querySelector("#migrations tbody"), s.migrations.map(m => {
    const fraction = m.rowsTotal > 0 ? m.rowsCopied / m.rowsTotal : 0;
    return el("tr", {"data-migration": m.id},
        el("td", {}, m.id),
        el("td", {class: "phase"}, m.phase.toLowerCase() + (m.lastError ? " (error: " + m.lastError + ")" : "")),
        el("td", {}, m.source + " → " + m.target + ", " + m.slots + " slots" + (m.tables ? " of " + m.tables : "")),
        el("td", {}, bar(fraction), " " + m.rowsCopied + "/" + m.rowsTotal + " rows (" + (fraction * 100).toFixed(1) + "%)"),
        el("td", {}, m.rowsPerSecond.toFixed(0)),
        el("td", {}, m.etaSeconds == null ? "–" : m.etaSeconds + " s"),
        el("td", {}, m.lastPauseMillis == null ? "–" : m.lastPauseMillis + " ms"));
  }));
  document.getElementById("no-migrations").classList.toggle("hidden", s.migrations.length > 0);
  fill(document.querySelector("#hot-keys tbody"), s.hotKeys.map(k => el("tr", {},
      el("td", {}, k.table), el("td", {}, k.key), el("td", {}, k.writesPerSecond.toFixed(1)), el("td", {}, k.split || "not split"))));
  fill(document.querySelector("#proxies tbody"), s.proxies.map(p => el("tr", {},
      el("td", {}, p.id), el("td", {}, p.address), el("td", {}, p.epoch))));
  previous = s;
}

async function poll() {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 2500);
  try {
    const response = await fetch("api/status", {signal: controller.signal, cache: "no-store"});
    if (!response.ok) throw new Error("HTTP " + response.status);
    render(await response.json());
    document.body.dataset.updated = String(Date.now());
  } catch (e) {
    banner("this proxy's admin port does not answer (" + e.message + "); showing the last picture");
  } finally {
    clearTimeout(timer);
    setTimeout(poll, 1000);
  }
}
poll();
