// mem ui: a small hand-written layer over the JSON API (the same shapes as `mem … --json`).
"use strict";
const TOKEN = document.querySelector('meta[name="mem-token"]').content;
const READ_ONLY = document.querySelector('meta[name="mem-read-only"]').content === "true";
const $ = (sel) => document.querySelector(sel);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));

async function api(path, body) {
  const opts = body === undefined ? {} : {method: "POST", body: JSON.stringify(body),
    headers: {"content-type": "application/json", "x-mem-token": TOKEN}};
  const r = await fetch(path, opts);
  const data = await r.json().catch(() => ({error: r.statusText}));
  if (!r.ok) throw new Error(data.error + (data.hint ? ` (${data.hint})` : ""));
  return data;
}

// -- words and highlighting ------------------------------------------------------------
const STOP = new Set("a an the of to in on for and or is are was were be do does did what who when where which how why i my me we our you your it its this that with at by from as about".split(" "));
const terms = (q) => q.toLowerCase().split(/[^\p{L}\p{N}_.-]+/u).filter((w) => w.length > 1 && !STOP.has(w));
function highlight(text, q) {
  const ts = terms(q).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const safe = esc(text);
  if (!ts.length) return safe;
  return safe.replace(new RegExp(`\\b(${ts.join("|")})\\w*`, "giu"), "<mark>$&</mark>");
}
function snippet(text, q, width = 320) {
  const flat = text.replace(/\s+/g, " ").trim();
  const lower = flat.toLowerCase();
  let at = -1;
  for (const t of terms(q)) { const i = lower.indexOf(t); if (i >= 0 && (at < 0 || i < at)) at = i; }
  const start = Math.max(0, at - width / 3);
  return (start > 0 ? "… " : "") + flat.slice(start, start + width) + (start + width < flat.length ? " …" : "");
}
const base = (uri) => String(uri).split("/").slice(-2).join("/");
const where = (h) => `${base(h.uri)}${h.section ? " § " + h.section : ""} (lines ${h.line_start}–${h.line_end})`;

// -- sources: id lookup for links, list, one source ------------------------------------
let sourceIds = null;
async function sourceIdOf(uri) {
  if (!sourceIds) sourceIds = Object.fromEntries((await api("/api/sources")).map((s) => [s.uri, s.source_id]));
  return sourceIds[uri];
}
const openLink = (sid, line, label) => `<a href="#source/${encodeURIComponent(sid)}/${line}" class="open-source">${esc(label)}</a>`;

async function showSources() {
  const rows = await api("/api/sources");
  sourceIds = Object.fromEntries(rows.map((s) => [s.uri, s.source_id]));
  $("#sources-table tbody").innerHTML = rows.map((s) => `<tr data-source="${esc(s.source_id)}">
    <td>${openLink(s.source_id, 1, s.title || base(s.uri))}<div class="dim">${esc(s.uri)}</div></td>
    <td>${esc(s.kind)}</td><td class="num">${s.n_units}</td><td class="num">${(s.size / 1024).toFixed(1)} KB</td>
    <td>${esc(String(s.ingested_at).slice(0, 16).replace("T", " "))}</td><td>committed</td>
    <td>${READ_ONLY ? "" : `<button class="danger forget" data-uri="${esc(s.uri)}">Forget</button>`}</td></tr>`).join("");
  const st = await api("/api/status");
  $("#sources-table tbody").insertAdjacentHTML("beforeend", st.failed.map((f) => `<tr class="failed">
    <td>${esc(base(f.path))}<div class="dim">${esc(f.path)}</div></td><td></td><td></td><td></td>
    <td>${esc(String(f.at).slice(0, 16).replace("T", " "))}</td><td class="finding bad">failed: ${esc(f.reason)}</td><td></td></tr>`).join("") +
    (st.pending_units ? `<tr class="pending"><td colspan="5">${st.pending_units} units of an interrupted write</td><td>pending</td><td></td></tr>` : ""));
  document.querySelectorAll("button.forget").forEach((b) => b.addEventListener("click", async () => {
    if (!confirm(`Forget ${b.dataset.uri}? Its units leave every store (same as \`mem forget\`).`)) return;
    try {
      const r = await api("/api/forget", {source: b.dataset.uri});
      $("#source-view").innerHTML = `<p class="dim" id="forgot">forgot ${r.forgotten.map((s) => esc(s.uri)).join(", ")}</p>`;
      sourceIds = null;
      showSources();
    } catch (e) { $("#source-view").innerHTML = `<p class="finding bad">${esc(e.message)}</p>`; }
  }));
}

async function showSource(sid, line) {
  const data = await api(`/api/sources/${encodeURIComponent(sid)}`);
  const s = data.source;
  $("#source-view").innerHTML = `<h3>${esc(s.title || base(s.uri))}</h3><p class="dim">${esc(s.uri)} · ${data.units.length} units</p>` +
    data.units.map((u) => `<div class="unit" id="unit-${esc(u.id)}" data-lines="${u.line_start}-${u.line_end}">
      <div class="meta">lines ${u.line_start}–${u.line_end}${u.section ? " · " + esc(u.section) : ""}${u.pinned ? " · pinned" : ""}
      ${READ_ONLY ? "" : `<button class="pin" data-id="${esc(u.id)}" data-pinned="${u.pinned ? 1 : 0}">${u.pinned ? "Unpin" : "Pin"}</button>`}</div>${esc(u.text)}</div>`).join("");
  document.querySelectorAll("button.pin").forEach((b) => b.addEventListener("click", async () => {
    await api("/api/pin", {ref: b.dataset.id, pinned: b.dataset.pinned !== "1"});
    showSource(sid, line);
  }));
  const target = data.units.find((u) => u.line_start <= line && line <= u.line_end) || data.units[0];
  if (target) {
    const el = document.getElementById(`unit-${target.id}`);
    el.classList.add("target");
    el.scrollIntoView({block: "center"});
  }
}

// -- search as you type ----------------------------------------------------------------
let searchSeq = 0, searchTimer = null;
async function runSearch() {
  const q = $("#q").value.trim(), seq = ++searchSeq;
  if (!q) { $("#hits").innerHTML = ""; $("#search-status").textContent = ""; return; }
  const t0 = performance.now();
  try {
    const data = await api(`/api/search?q=${encodeURIComponent(q)}&k=10&explain=1`);
    if (seq !== searchSeq) return;  // a newer keystroke won
    $("#search-status").textContent = `${data.hits.length} hits · ${data.mode} · ${Math.round(performance.now() - t0)} ms`;
    const ids = await Promise.all(data.hits.map((h) => sourceIdOf(h.uri)));
    $("#hits").innerHTML = data.hits.map((h, i) => `<li class="hit" data-unit="${esc(h.unit_id)}">
      <div class="where"><span class="score">${h.score.toFixed(3)}</span>${openLink(ids[i] || h.source_id, h.line_start, where(h))}</div>
      <div class="snippet">${highlight(snippet(h.prose || h.text, q), q)}</div>
      <div class="explain">${esc(explainLine(h.explain))}</div></li>`).join("") || `<p class="dim">No matching memory.</p>`;
  } catch (e) { $("#search-status").textContent = e.message; }
}
function explainLine(e) {
  if (!e) return "";
  const parts = [];
  for (const [k, v] of Object.entries(e)) if (v && typeof v === "object") parts.push(v.rank ? `${k} #${v.rank} (${Number(v.score).toPrecision(3)})` : `${k} —`);
  for (const k of ["fused", "bridge", "time", "rerank", "final"]) if (e[k] !== null && e[k] !== undefined)
    parts.push(k === "fused" || k === "final" ? `${k} ${e[k].toFixed(3)}` : `${k} ${e[k] >= 0 ? "+" : ""}${e[k].toFixed(3)}`);
  return parts.join(" · ");
}

// -- ask ---------------------------------------------------------------------------------
async function runAsk(q) {
  $("#answer").innerHTML = `<p class="dim">…</p>`; $("#citations").innerHTML = "";
  try {
    const f = new URLSearchParams({q});
    for (const [key, id] of [["since", "#ask-since"], ["until", "#ask-until"], ["tag", "#ask-tag"], ["source", "#ask-source"]]) {
      const v = ($(id) && $(id).value.trim()) || "";
      if (v) f.append(key, v);
    }
    const a = await api(`/api/ask?${f}`);
    const refused = a.abstained || a.refusal;
    $("#answer").className = "answer" + (refused ? " refusal" : "");
    $("#answer").innerHTML = `<div class="text" id="answer-text">${esc(a.answer)}</div>` +
      (a.refusal ? `<p class="dim">${esc(typeof a.refusal === "string" ? a.refusal : (a.refusal.why || JSON.stringify(a.refusal)))}</p>` : "");
    const list = refused ? (a.closest || []).map((c) => ({...c, number: "·"})) : a.citations;
    const texts = Object.fromEntries((a.context || []).map((c) => [c.number, c.text]));
    const ids = await Promise.all(list.map((c) => c.uri ? sourceIdOf(c.uri) : null));
    $("#citations").innerHTML = list.map((c, i) => {
      let body = esc(snippet(texts[c.number] || c.text || "", q, 400));
      if (a.evidence && texts[c.number] && texts[c.number].replace(/\s+/g, " ").includes(a.evidence)) {
        body = esc(texts[c.number].replace(/\s+/g, " ")).replace(esc(a.evidence), `<mark class="evidence">${esc(a.evidence)}</mark>`);
      }
      return `<li class="citation"><div class="where">[${c.number}] ${ids[i] ? openLink(ids[i], c.line_start || 1, where(c)) : esc(c.uri || c.unit_id)}</div>
        <div class="snippet">${body}</div></li>`;
    }).join("");
  } catch (e) { $("#answer").innerHTML = `<p class="finding bad">${esc(e.message)}</p>`; }
}

// -- timeline ---------------------------------------------------------------------------
let timeline = null;
async function showTimeline() {
  const data = await api("/api/timeline");
  // One row per source when there are few (a journal's entries side by side), else one axis.
  const sources = [...new Set(data.items.filter((it) => it.source_id).map((it) => it.source_id))];
  const grouped = sources.length > 1 && sources.length <= 12;
  const label = (it) => it.kind === "session" ? `${it.session} (${it.units})`
    : it.kind === "event" ? (it.sections && it.sections.length ? it.sections.join(", ") : (it.title || base(it.uri)))
    : `was: ${snippet(it.was, "", 40)} → now: ${snippet(it.now, "", 40)}`;
  const items = data.items.map((it, i) => ({
    id: i, start: it.start, end: it.end && it.end !== it.start ? it.end : undefined,
    type: it.end && it.end !== it.start ? "range" : "point", className: `tl-${it.kind}`,
    group: grouped && it.source_id ? it.source_id : undefined, content: esc(label(it)),
    title: esc(it.kind === "event" ? `${it.title || base(it.uri)} · ${it.units} units · date from ${it.time_source}` : label(it)),
  }));
  const el = $("#timeline");
  if (timeline) timeline.destroy();
  const opts = {zoomable: true, stack: true, maxHeight: 460};
  timeline = grouped
    ? new vis.Timeline(el, new vis.DataSet(items), new vis.DataSet(sources.map((sid) => {
        const it = data.items.find((x) => x.source_id === sid); return {id: sid, content: esc(it.title || base(it.uri || sid))}; })), opts)
    : new vis.Timeline(el, new vis.DataSet(items), opts);
  const times = data.items.map((it) => new Date(it.end || it.start).getTime()).filter((t) => !isNaN(t));
  window.memTimelineReady = false;
  const place = () => {  // room on both sides, then as much as the last labels need on the right
    if (window.memTimelineReady || !times.length) return;
    window.memTimelineReady = true;
    const lo = Math.min(...times), hi = Math.max(...times), pad = Math.max((hi - lo) * 0.08, 3 * 864e5);
    const widest = Math.max(0, ...[...el.querySelectorAll(".vis-item.vis-point .vis-item-content")].map((c) => c.offsetWidth));
    const axis = el.querySelector(".vis-center");
    const px = axis ? axis.offsetWidth : el.offsetWidth;
    const room = widest + 48, span = hi - lo + 2 * pad, extra = widest ? span * room / Math.max(px - room, px / 4) : pad;
    timeline.setWindow(new Date(lo - pad), new Date(hi + pad + extra), {animation: false});
  };
  // After vis's own first fit (setting the window before it is undone by it).
  timeline.on("changed", place);
  timeline.on("select", (props) => { const it = items.find((x) => x.id === props.items[0]); if (it) showDay(String(it.start).slice(0, 10)); });
  window.memTimeline = timeline;
  $("#undated").innerHTML = data.undated_count ? `<h3 id="undated-title">${data.undated_count} with no date</h3>
    <p class="dim">No front matter date, dated heading, dated file name or dated first line: not drawn on the axis.</p>
    <ul id="undated-list">${data.undated.slice(0, 50).map((s) => `<li title="${esc(s.uri)}">${esc(s.title || base(s.uri))} <span class="dim">(${s.units} units)</span></li>`).join("")}
    ${data.undated_count > 50 ? `<li class="dim">… and ${data.undated_count - 50} more</li>` : ""}</ul>` : "";
}
async function showInView() {
  const w = timeline.getWindow(), day = (d) => new Date(d).toISOString().slice(0, 10);
  const data = await api(`/api/between?since=${day(w.start)}&until=${day(w.end)}`);
  $("#day-title").textContent = `${day(w.start)} → ${day(w.end)}: ${data.count} units` + (data.count > data.units.length ? ` (the first ${data.units.length})` : "");
  const ids = await Promise.all(data.units.map((u) => sourceIdOf(u.uri)));
  $("#day-units").innerHTML = data.units.map((u, i) => `<li class="day-unit"><div class="where">${esc(String(u.event_time).slice(0, 10))}
    ${u.speaker ? esc(u.speaker) + " · " : ""}${ids[i] ? openLink(ids[i], 1, base(u.uri)) : esc(base(u.uri))}</div><div class="snippet">${esc(snippet(u.text, "", 300))}</div></li>`).join("");
}
async function showDay(day) {
  const data = await api(`/api/day/${day}`);
  $("#day-title").textContent = `${day}: ${data.units.length} units`;
  const ids = await Promise.all(data.units.map((u) => sourceIdOf(u.uri)));
  $("#day-units").innerHTML = data.units.map((u, i) => `<li class="day-unit"><div class="where">${esc(String(u.event_time).slice(11, 16))}
    ${u.speaker ? esc(u.speaker) + " · " : ""}${ids[i] ? openLink(ids[i], 1, base(u.uri)) : esc(base(u.uri))}</div><div class="snippet">${esc(snippet(u.text, "", 300))}</div></li>`).join("");
}

// -- graph --------------------------------------------------------------------------------
// One colour per entity type (graph/ner.py's types; "" is an untyped name).
const TYPE_COLOURS = {person: "#2f6fdb", organization: "#e8590c", place: "#2b8a3e", product: "#7048e8", work: "#c2255c",
  event: "#e67700", law: "#5c940d", note: "#495057", "": "#adb5bd"};
const typeColour = (t) => TYPE_COLOURS[t] || TYPE_COLOURS[""];
let cy = null;
function drawLegend() {
  const types = [...new Set(cy.nodes().map((n) => n.data("type")))].sort();
  $("#graph-legend").innerHTML = types.map((t) => `<span class="legend-item" data-type="${esc(t)}"><span class="swatch" style="background:${typeColour(t)}"></span>${esc(t || "untyped")}</span>`).join("");
}
function showPanel(g) {
  if (!g.entity) { $("#graph-panel").innerHTML = `<h3>Most connected</h3><p class="dim">Click an entity to open its neighbourhood.</p>`; return; }
  $("#graph-panel").innerHTML = `<h3 id="panel-entity">${esc(g.entity)}</h3><div class="dim">${esc(g.type || "untyped")}</div>
    <h4>Notes that mention it</h4><ul id="panel-notes">${(g.notes || []).map((u) => `<li title="${esc(u)}">${esc(base(u))}</li>`).join("")}</ul>`;
}
async function showGraph(name, expand = false) {
  try {
    const g = await api(`/api/graph?entity=${encodeURIComponent(name)}`);
    const els = [...g.nodes.map((n) => ({group: "nodes", data: {id: n.id, label: n.label, type: n.type || "", mentions: n.mentions,
        colour: typeColour(n.type || "")}})),
      ...g.edges.map((e, i) => ({group: "edges", data: {id: `${e.source}|${e.label}|${e.target}|${e.unit_id}`, source: e.source,
        target: e.target, label: e.label, text: e.text, uri: e.uri, unit_id: e.unit_id}}))];
    if (!cy || !expand) {
      if (cy) cy.destroy();
      cy = cytoscape({container: $("#graph"), elements: [], style: [
        {selector: "node", style: {label: "data(label)", "font-size": 11, width: "mapData(mentions, 1, 20, 14, 40)",
          height: "mapData(mentions, 1, 20, 14, 40)", "background-color": "data(colour)", color: "#1d232b",
          "text-valign": "bottom", "text-margin-y": 3, "text-background-color": "#fff", "text-background-opacity": 0.85,
          "text-background-padding": 1}},
        {selector: "edge", style: {"font-size": 9, "curve-style": "bezier", "target-arrow-shape": "triangle",
          width: 1.2, "line-color": "#ced4da", "target-arrow-color": "#ced4da", color: "#6a7380"}},
        {selector: "edge:selected", style: {label: "data(label)"}},
        {selector: ":selected", style: {"border-width": 3, "border-color": "#e8590c", "line-color": "#e8590c"}}]});
      cy.on("tap", "edge", (ev) => { const d = ev.target.data();
        $("#edge-text").innerHTML = `<div class="where">${esc(d.label)} · ${esc(base(d.uri))}</div><div class="snippet" id="edge-sentence">${esc(snippet(d.text, d.label, 400))}</div>`; });
      cy.on("tap", "node", (ev) => showGraph(ev.target.data("label"), true));
      window.memGraph = cy;
    }
    cy.add(els.filter((e) => !cy.getElementById(e.data.id).length));
    // Labels take part in the layout, so no two labels overlap (checked by the browser test).
    cy.layout({name: "cose", animate: false, nodeDimensionsIncludeLabels: true, nodeRepulsion: () => 12000,
      nodeOverlap: 20, idealEdgeLength: () => 90, componentSpacing: 40, padding: 20, randomize: false}).run();
    if (cy.zoom() < 0.75) { cy.zoom(0.75); cy.center(); }  // readable labels; drag to see the rest
    drawLegend();
    showPanel(g);
    $("#graph-status").textContent = (g.entity ? "" : "The memory's most connected entities. ") +
      `${cy.nodes().length} entities, ${cy.edges().length} relations (click a node to expand it, an edge to read where it came from)`;
    $("#graph-nodes").innerHTML = cy.nodes().map((n) => `<li>${esc(n.data("label"))}</li>`).join("");
  } catch (e) { $("#graph-status").textContent = e.message; }
}

// -- health -------------------------------------------------------------------------------
async function showHealth() {
  const h = await api("/api/health");
  const findings = h.doctor.findings || [];
  $("#health").innerHTML = `<h3>mem doctor</h3>` +
    (h.doctor.healthy ? `<p class="finding ok" id="doctor-ok">healthy: every store agrees</p>` : `<p class="finding bad" id="doctor-bad">something needs repair: mem doctor --repair</p>`) +
    `<table>${findings.map((f) => `<tr><td class="finding ${f.ok || f.repaired ? "ok" : "bad"}">${f.ok ? "✓" : f.repaired ? "repaired" : "✗"}</td>
      <td>${esc(f.check)}</td><td class="dim">${esc(f.detail)}</td></tr>`).join("")}</table>` +
    `<h3>Memory</h3><pre>${esc(JSON.stringify(h.stats, null, 2))}</pre>` +
    `<h3>Schedule</h3><pre>${esc(JSON.stringify(h.schedule, null, 2))}</pre>` +
    `<h3>Server</h3><pre id="server-status">${esc(JSON.stringify(h.server, null, 2))}</pre>`;
}

// -- tabs (the address says what is shown) -------------------------------------------------
async function route() {
  const hash = decodeURIComponent(location.hash.slice(1)) || "search";
  const [tab, ...rest] = hash.split("/");
  const name = tab === "source" ? "sources" : tab;
  document.querySelectorAll(".tab").forEach((s) => s.classList.toggle("active", s.id === `tab-${name}`));
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.tab === name));
  try {
    if (name === "sources") { await showSources(); if (tab === "source") await showSource(rest[0], Number(rest[1] || 1)); }
    else if (name === "timeline") await showTimeline();
    else if (name === "health") await showHealth();
    else if (name === "graph" && !cy) await showGraph("");
  } catch (e) { console.error(e); }
}
window.addEventListener("hashchange", route);
$("#q").addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(runSearch, 150); });
$("#ask-form").addEventListener("submit", (e) => { e.preventDefault(); runAsk($("#ask-q").value.trim()); });
let suggestTimer = null;
$("#graph-q").addEventListener("input", () => { clearTimeout(suggestTimer); suggestTimer = setTimeout(async () => {
  const names = (await api(`/api/entities?prefix=${encodeURIComponent($("#graph-q").value)}`)).names;
  $("#entity-names").innerHTML = names.map((n) => `<option value="${esc(n)}">`).join("");
}, 150); });
$("#in-view").addEventListener("click", () => { if (timeline) showInView(); });
$("#graph-form").addEventListener("submit", (e) => { e.preventDefault(); showGraph($("#graph-q").value.trim()); });
route();
