// The tariff-alert risk console: one page, hash routes, plain DOM. It talks
// only to the gateway that served it (docs/console.md): JSON calls under
// /api/rpc/..., Server-Sent Events for alerts and for the shared console
// state. Every POST carries X-CSRF-Token from the session.
import * as R from "./rules.js";

const $ = (id) => document.getElementById(id);
const num = R.num;

// ---------------------------------------------------------------- state
const S = {
  session: null,
  csrf: "",
  alerts: new Map(),  // sequence -> Alert
  byId: new Map(),    // alert_id -> Alert
  events: new Map(),  // event_id -> {first_sequence, newest_sequence, headline, stage, ...}
  sectors: new Set(),
  maxSeq: 0,
  startAfter: null,
  state: new R.StateView(),
  audit: [],          // recent AuditRecords, newest first
  alertSource: null,
  stateSource: null,
  clockOffset: 0,     // server time - Date.now()
  logNewest: 0,
  eventOpen: new Map(),
  presets: [],
  scenario: [],
  holdings: [],
  renderPending: false,
  view: "",
  healthTimer: null,
  silenceSig: "",
  silenceTarget: null,
};
// What the browser test reads (never anything secret).
const stats = {
  alertsReceived: 0, duplicates: 0, gaps: [], reconnects: 0, stateSnapshots: 0,
  stateRecords: 0, stateGaps: 0, startAfter: null, lastSequence: 0, renders: 0,
};
window.__console = { stats, sequences: () => [...S.alerts.keys()].sort((a, b) => a - b) };

const MAX_ALERTS = 30000;
const RESUME_WINDOW = 2000;
const ALERT_FILTER = { subject_kinds: ["SUBJECT_KIND_TICKER", "SUBJECT_KIND_SECTOR"] };

// ---------------------------------------------------------------- DOM helpers
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  setAttrs(e, attrs);
  append(e, children);
  return e;
}
function setAttrs(e, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
}
function append(e, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}
const SVGNS = "http://www.w3.org/2000/svg";
function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVGNS, tag);
  if (attrs) for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === "class") e.setAttribute("class", v);
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, String(v));
  }
  append(e, children);
  return e;
}
function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}
function table(headers, rows, attrs) {
  return el("table", attrs,
    el("thead", null, el("tr", null, headers.map((h) =>
      el("th", typeof h === "object" ? h : { text: h }, typeof h === "object" ? h.label : null)))),
    el("tbody", null, rows));
}
function kv(pairs, attrs) {
  return el("dl", Object.assign({ class: "kv" }, attrs || {}),
    pairs.filter(Boolean).map(([k, v, dattrs]) => [el("dt", { text: k }), el("dd", dattrs || null, v)]));
}

// ---------------------------------------------------------------- formatting
const fmtBps = (x) => (num(x) > 0 ? "+" : "") + num(x).toFixed(1);
const fmtPct = (x, d = 2) => (num(x) > 0 ? "+" : "") + num(x).toFixed(d);
const fmtRate = (x) => `${+num(x).toFixed(2)}%`;
const fmtShare = (x) => num(x).toFixed(3);
const fmtMoney = (x) => (num(x) > 0 ? "+" : "") +
  num(x).toLocaleString("en-US", { maximumFractionDigits: 0 });
const fmtValue = (x) => num(x).toLocaleString("en-US", { maximumFractionDigits: 0 });
function fmtTime(t) {
  const ms = R.timeMs(t);
  if (Number.isNaN(ms)) return "–";
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ") + "Z";
}
const sevName = (s) => R.severityShortName(s);
const stageName = (s) => String(s || "").replace(/^STAGE_/, "");
const channelName = (c) => String(c || "").replace(/^CHANNEL_/, "").replace(/_/g, " ").toLowerCase();
const signClass = (x) => (num(x) > 0 ? "pos" : num(x) < 0 ? "neg" : "");
function targetsText(a) {
  const t = a.target_countries || [];
  let s = t.length ? t.join(",") : "all partners";
  if (a.excluded_target_countries && a.excluded_target_countries.length) s += " except " + a.excluded_target_countries.join(",");
  return s;
}
function productsText(a) {
  const p = a.product_codes || [];
  let s = p.length ? p.join(",") : "all goods";
  if (a.excluded_product_codes && a.excluded_product_codes.length) s += " except " + a.excluded_product_codes.join(",");
  return s;
}
const serverNow = () => Date.now() + S.clockOffset;
function noteServerTime(t) {
  const ms = R.timeMs(t);
  if (!Number.isNaN(ms)) S.clockOffset = ms - Date.now();
}

let toastTimer = null;
function toast(msg, err) {
  const t = $("toast");
  t.textContent = msg;
  t.className = "toast" + (err ? " err" : "");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.add("hidden"), err ? 6000 : 2500);
}

// ---------------------------------------------------------------- HTTP
class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}
async function request(method, path, body, { csrf = true } = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method === "POST" && csrf && S.csrf) headers["X-CSRF-Token"] = S.csrf;
  const r = await fetch(path, {
    method, headers, credentials: "same-origin", cache: "no-store",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  const text = await r.text();
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!r.ok) {
    const err = new ApiError(r.status, data && data.code, (data && data.message) || text);
    if (r.status === 401 && path !== "/api/login") onLoggedOut();
    throw err;
  }
  return data;
}
const rpc = (service, method, body) => request("POST", `/api/rpc/${service}/${method}`, body || {});

function canChange() {
  return !!(S.session && S.session.can_change_state);
}
async function change(fn, okMsg) {
  try {
    await fn();
    if (okMsg) toast(okMsg);
  } catch (e) {
    toast(`${e.code || e.status}: ${e.message}`, true);
  }
}

// ---------------------------------------------------------------- session
async function boot() {
  wire();
  loadHoldings();
  try {
    const s = await request("GET", "/api/session");
    onSession(s);
  } catch {
    showLogin();
  }
}

function onSession(s) {
  S.session = s.session || {};
  S.csrf = s.csrf_token || "";
  $("topbar").classList.remove("hidden");
  const roles = (S.session.roles || []).join(",");
  $("whoami").textContent = `${S.session.token_name || "(no name)"} · ${roles || "no role"}` +
    (canChange() ? "" : " · read-only");
  document.body.classList.toggle("readonly", !canChange());
  startStreams();
  loadPresets();
  if (!location.hash || location.hash === "#/login") location.hash = "#/live";
  else route();
}

function showLogin(msg) {
  $("topbar").classList.add("hidden");
  showView("login");
  if (location.hash !== "#/login") history.replaceState(null, "", "#/login");
  const e = $("login-error");
  if (msg) { e.textContent = msg; e.classList.remove("hidden"); } else e.classList.add("hidden");
  $("login-token").focus();
}

function onLoggedOut() {
  stopStreams();
  S.session = null;
  S.csrf = "";
  showLogin("Your session has ended: sign in again.");
}

async function login(ev) {
  ev.preventDefault();
  const token = $("login-token").value.trim();
  $("login-error").classList.add("hidden");
  try {
    const s = await request("POST", "/api/login", { token }, { csrf: false });
    $("login-token").value = "";
    onSession(s);
  } catch (e) {
    showLogin(e.status === 401 ? "Wrong or unknown token." : `Sign-in failed: ${e.message}`);
  }
}

async function logout() {
  try { await request("POST", "/api/logout", {}); } catch { /* gone anyway */ }
  stopStreams();
  S.session = null;
  S.csrf = "";
  showLogin();
}

// ---------------------------------------------------------------- streams
function setPill(id, state, text) {
  const p = $(id);
  p.dataset.state = state;
  p.textContent = text;
}

function stopStreams() {
  if (S.alertSource) S.alertSource.close();
  if (S.stateSource) S.stateSource.close();
  S.alertSource = S.stateSource = null;
}

async function startStreams() {
  stopStreams();
  openStateSource();
  // Start 2000 sequences back so a reload shows recent history again, then live.
  let after = S.maxSeq;
  if (!after) {
    try {
      const st = await rpc("ConsoleService", "GetServerStatus", {});
      noteServerTime(st.server_time);
      S.logNewest = num(st.log_newest_sequence);
      after = Math.max(0, S.logNewest - RESUME_WINDOW);
    } catch (e) {
      if (e.status === 401) return;
      after = 0;
    }
    stats.startAfter = after;
    S.startAfter = after;
  }
  openAlertSource(after);
}

function openAlertSource(after) {
  if (!S.session) return;
  const url = `/api/alerts/stream?after=${after}&filter=${encodeURIComponent(JSON.stringify(ALERT_FILTER))}`;
  const es = new EventSource(url);
  S.alertSource = es;
  setPill("stream-status", "connecting", "stream …");
  es.onopen = () => setPill("stream-status", "live", "stream live");
  es.addEventListener("alert", (e) => {
    try { onAlert(JSON.parse(e.data)); } catch (err) { console.error("bad alert", err); }
  });
  es.addEventListener("heartbeat", (e) => {
    try {
      const h = JSON.parse(e.data);
      S.logNewest = Math.max(S.logNewest, num(h.newest_sequence));
      noteServerTime(h.server_time);
    } catch { /* ignore */ }
  });
  es.addEventListener("end", (e) => {
    stats.reconnects++;
    setPill("stream-status", "connecting", "stream resuming");
    try { const d = JSON.parse(e.data); if (d.code === "UNAUTHENTICATED") onLoggedOut(); } catch { /* ignore */ }
  });
  es.onerror = () => {
    if (es !== S.alertSource) return;
    setPill("stream-status", "error", "stream down");
    if (es.readyState === EventSource.CLOSED) {
      // EventSource gives up on an HTTP error: check the session, then resume
      // after the newest sequence received.
      setTimeout(async () => {
        if (es !== S.alertSource || !S.session) return;
        try { await request("GET", "/api/session"); } catch { return; }
        stats.reconnects++;
        openAlertSource(S.maxSeq || S.startAfter || 0);
      }, 1000);
    }
  };
}

function onAlert(a) {
  if (a.subject_kind === "SUBJECT_KIND_PORTFOLIO") return;
  const seq = num(a.sequence);
  stats.alertsReceived++;
  if (S.alerts.has(seq)) { stats.duplicates++; return; }
  if (S.maxSeq && seq > S.maxSeq + 1) stats.gaps.push([S.maxSeq + 1, seq - 1]);
  S.alerts.set(seq, a);
  S.byId.set(a.alert_id, a);
  if (seq > S.maxSeq) S.maxSeq = seq;
  stats.lastSequence = S.maxSeq;
  let ev = S.events.get(a.event_id);
  if (!ev) {
    ev = { event_id: a.event_id, first_sequence: seq, newest_sequence: seq, headline: a.headline,
           stage: a.stage, imposing_country: a.imposing_country, target_countries: a.target_countries,
           product_codes: a.product_codes, measure_id: a.measure_id, created_time: a.created_time };
    S.events.set(a.event_id, ev);
  }
  ev.newest_sequence = Math.max(ev.newest_sequence, seq);
  ev.first_sequence = Math.min(ev.first_sequence, seq);
  if (a.sector && !S.sectors.has(a.sector)) {
    S.sectors.add(a.sector);
    refreshSectorOptions();
  }
  if (S.alerts.size > MAX_ALERTS) {
    const oldest = Math.min(...S.alerts.keys());
    const old = S.alerts.get(oldest);
    S.alerts.delete(oldest);
    if (old) S.byId.delete(old.alert_id);
  }
  scheduleRender();
}

function openStateSource(fresh) {
  if (!S.session) return;
  if (S.stateSource) S.stateSource.close();
  const es = new EventSource("/api/console/stream");
  S.stateSource = es;
  setPill("state-status", "connecting", "state …");
  es.onopen = () => setPill("state-status", "live", "state live");
  es.addEventListener("snapshot", (e) => {
    const st = JSON.parse(e.data);
    S.state.reset(st);
    noteServerTime(st.server_time);
    stats.stateSnapshots++;
    onStateChanged();
  });
  es.addEventListener("record", (e) => {
    const rec = JSON.parse(e.data);
    const seq = num(rec.sequence);
    if (seq <= S.state.auditSequence) return;  // a repeat
    if (!S.state.apply(rec)) {
      // A gap: read the whole state again.
      stats.stateGaps++;
      openStateSource(true);
      return;
    }
    stats.stateRecords++;
    S.audit.unshift(rec);
    if (S.audit.length > 200) S.audit.length = 200;
    onStateChanged();
  });
  es.addEventListener("inhibitions", (e) => {
    const d = JSON.parse(e.data);
    S.state.setInhibitions(d.inhibitions || []);
    onStateChanged();
  });
  es.addEventListener("heartbeat", (e) => {
    try { noteServerTime(JSON.parse(e.data).server_time); } catch { /* ignore */ }
  });
  es.addEventListener("end", (e) => {
    let code = "";
    try { code = JSON.parse(e.data).code; } catch { /* ignore */ }
    if (code === "UNAUTHENTICATED") { onLoggedOut(); return; }
    if (code === "FAILED_PRECONDITION") openStateSource(true);  // records gone: a snapshot
    else setPill("state-status", "connecting", "state resuming");
  });
  es.onerror = () => {
    if (es !== S.stateSource) return;
    setPill("state-status", "error", "state down");
    if (es.readyState === EventSource.CLOSED) {
      setTimeout(async () => {
        if (es !== S.stateSource || !S.session) return;
        try { await request("GET", "/api/session"); } catch { return; }
        openStateSource(true);
      }, 1000);
    }
  };
  void fresh;
}

function onStateChanged() {
  scheduleRender();
  if (S.view === "alert" || S.view === "event") refreshMarksInDetail();
}

// Silences start and end by the clock: re-render when the set in force changes.
setInterval(() => {
  if (!S.session) return;
  const now = serverNow();
  const sig = [...S.state.silences.values()].map((s) => s.id + ":" + R.silenceState(s, now)).join(",");
  if (sig !== S.silenceSig) { S.silenceSig = sig; scheduleRender(); }
}, 1000);

// ---------------------------------------------------------------- live view
function scheduleRender() {
  if (S.renderPending) return;
  S.renderPending = true;
  setTimeout(() => {
    S.renderPending = false;
    renderLive();
  }, 120);
}

function readFilters() {
  const split = (v) => v.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
  return {
    tickers: split($("f-ticker").value.toUpperCase()),
    sector: $("f-sector").value,
    country: $("f-country").value.trim().toUpperCase(),
    minSeverity: Number($("f-severity").value) || 0,
    holdingsOnly: $("f-holdings").checked,
    showSilenced: $("f-show-silenced").checked,
    hideAcked: $("f-hide-acked").checked,
  };
}

function passes(a, f, holdingSet) {
  if (f.tickers.length && !(R.isTicker(a) && f.tickers.includes(String(a.subject).toUpperCase()))) return false;
  if (f.sector && (a.sector || (R.isSector(a) ? a.subject : "")) !== f.sector) return false;
  if (f.country && !R.involvesCountry(a, f.country)) return false;
  if (f.minSeverity && R.severityRank(a.severity) < f.minSeverity) return false;
  if (f.holdingsOnly && !(R.isTicker(a) && holdingSet.has(String(a.subject).toUpperCase()))) return false;
  return true;
}

function refreshSectorOptions() {
  const sel = $("f-sector");
  const cur = sel.value;
  replace(sel, el("option", { value: "", text: "all" }),
    [...S.sectors].sort().map((s) => el("option", { value: s, text: s })));
  sel.value = cur;
}

function markBadges(m) {
  const out = [];
  if (m.acknowledgement) {
    out.push(el("span", { class: "badge ack", title: `by ${m.acknowledgement.actor} at ${fmtTime(m.acknowledgement.time)}` +
      (m.acknowledgement.comment ? `: ${m.acknowledgement.comment}` : ""), text: m.acknowledgement.alert_id ? "ACK" : "ACK (event)" }));
  }
  if (m.silencedBy) out.push(el("span", { class: "badge sil", title: `silenced by ${m.silencedBy}`, text: "SILENCED" }));
  if (m.inhibitedBy) out.push(el("span", { class: "badge inh", title: m.inhibition && m.inhibition.reason || m.inhibitedBy, text: "INHIBITED" }));
  return out;
}
function stateWord(m) {
  return [m.acknowledgement ? "acknowledged" : "unacknowledged", m.silencedBy ? "silenced" : "",
          m.inhibitedBy ? "inhibited" : ""].filter(Boolean).join(" ");
}

function renderLive() {
  stats.renders++;
  updateCounterOnly();
  if (S.view !== "live") return;
  const list = $("live-list");
  const now = serverNow();
  const f = readFilters();
  const holdingSet = new Set(S.holdings.map((h) => h.ticker));
  const marks = new Map();
  const visible = [];
  let hiddenSilenced = 0;
  let passing = 0;
  for (const a of S.alerts.values()) {
    if (!passes(a, f, holdingSet)) continue;
    passing++;
    const m = S.state.mark(a, now);
    if (m.silencedBy && !f.showSilenced) { hiddenSilenced++; continue; }
    if (f.hideAcked && m.acknowledgement) continue;
    marks.set(a, m);
    visible.push(a);
  }
  $("live-summary").textContent = `${visible.length} shown of ${passing} matching · ${S.alerts.size} loaded` +
    (hiddenSilenced ? ` · ${hiddenSilenced} silenced hidden` : "") + ` · newest seq ${S.maxSeq}`;
  const scrollY = window.scrollY;
  if (visible.length === 0) {
    replace(list, el("div", { class: "empty", id: "live-empty" },
      S.alerts.size ? "No alert passes the filters." : "Waiting for alerts… (publish an event, or widen the filters)"));
  } else {
    const groups = R.groupAlerts(visible);
    replace(list, groups.map((g, i) => eventGroup(g, i, marks)));
  }
  renderSilences(now);
  renderInhibitions();
  renderAudit();
  window.scrollTo(0, scrollY);
}

function updateCounterOnly() {
  const now = serverNow();
  const f = readFilters();
  const holdingSet = new Set(S.holdings.map((h) => h.ticker));
  let unacked = 0;
  for (const a of S.alerts.values()) {
    if (!passes(a, f, holdingSet)) continue;
    if (S.state.acknowledgementOf(a)) continue;
    if (S.state.silencedBy(a, now)) continue;
    unacked++;
  }
  $("unacked-count").textContent = String(unacked);
}

function eventGroup(g, index, marks) {
  const ev = S.events.get(g.event_id) || {};
  const eventAck = S.state.eventAcknowledgement(g.event_id);
  const open = S.eventOpen.has(g.event_id) ? S.eventOpen.get(g.event_id) : index < 4;
  const rows = [];
  for (const sg of g.sectors) {
    rows.push(el("tr", { class: "sector-head", "data-sector": sg.sector },
      el("td", { colspan: 10 }, `${sg.sector} · ${sg.alerts.length} alert${sg.alerts.length === 1 ? "" : "s"} · Σ|score| ${sg.abs_score_bps.toFixed(1)} bps`)));
    for (const a of sg.alerts) rows.push(alertRow(a, marks.get(a)));
  }
  const d = el("details", { class: "event-group" + (eventAck ? " acked" : ""), "data-event-id": g.event_id, open: open },
    el("summary", null,
      el("span", { class: "ev-headline", title: g.headline }, g.headline || g.event_id),
      el("span", { class: "ev-meta" },
        `${stageName(ev.stage)} · ${ev.imposing_country || ""}→${targetsText(ev)} · ${g.alert_count} alerts · seq ${ev.first_sequence}–${g.newest_sequence}`),
      eventAck ? el("span", { class: "badge ack", title: `by ${eventAck.actor} at ${fmtTime(eventAck.time)}`, text: "EVENT ACK" }) : null,
      el("span", { class: "ev-actions" },
        el("a", { class: "btn small", href: "#/event/" + encodeURIComponent(g.event_id), "data-action": "open-event", text: "Event view" }),
        canChange() ? el("button", { class: "btn small", "data-action": eventAck ? "unack-event" : "ack-event",
                                      "data-event-id": g.event_id, text: eventAck ? "Unack event" : "Ack event" }) : null,
        canChange() ? el("button", { class: "btn small", "data-action": "silence-event", "data-event-id": g.event_id, text: "Silence…" }) : null)),
    el("table", { class: "alerts" },
      el("thead", null, el("tr", null, ["", "seq", "subject", "name", "ctry", "score bps", "op.profit %", "sev", "state", ""].map((h) =>
        el("th", { class: ["seq", "score bps", "op.profit %"].includes(h) ? "num" : "", text: h })))),
      el("tbody", null, rows)));
  d.addEventListener("toggle", () => S.eventOpen.set(g.event_id, d.open));
  return d;
}

function alertRow(a, m) {
  const sev = sevName(a.severity);
  const cls = ["alert-row", "sev-" + sev, m.acknowledgement ? "acked" : "", m.silencedBy ? "silenced" : "",
               m.inhibitedBy ? "inhibited" : ""].filter(Boolean).join(" ");
  return el("tr", { class: cls, "data-seq": num(a.sequence), "data-alert-id": a.alert_id, "data-event-id": a.event_id,
                    "data-subject": a.subject, "data-kind": R.isSector(a) ? "sector" : "ticker", "data-severity": sev, "data-state": stateWord(m),
                    "data-silenced-by": m.silencedBy || null },
    el("td", { class: "sevbar" }),
    el("td", { class: "num muted", text: num(a.sequence) }),
    el("td", { class: "subject", text: a.subject }),
    el("td", { class: "name", title: a.name, text: R.isSector(a) ? "sector" : a.name }),
    el("td", { text: a.country || "" }),
    el("td", { class: "num " + signClass(a.score_bps), text: fmtBps(a.score_bps) }),
    el("td", { class: "num " + signClass(a.operating_profit_change_pct), text: R.isSector(a) ? "" : fmtPct(a.operating_profit_change_pct) }),
    el("td", null, el("span", { class: "sev " + sev, text: sev })),
    el("td", null, markBadges(m)),
    el("td", { class: "actions" },
      canChange() ? el("button", { class: "btn small", "data-action": m.acknowledgement && m.acknowledgement.alert_id ? "unack" : "ack",
                                    "data-alert-id": a.alert_id,
                                    disabled: m.acknowledgement && !m.acknowledgement.alert_id ? true : null,
                                    text: m.acknowledgement && m.acknowledgement.alert_id ? "Unack" : "Ack" }) : null,
      canChange() ? el("button", { class: "btn small", "data-action": "silence", "data-alert-id": a.alert_id, text: "Silence…" }) : null));
}

function matcherText(m) {
  const f = String(m.field || "").replace(/^MATCHER_FIELD_/, "").toLowerCase();
  return f === "severity" ? `severity≤${m.value}` : `${f}=${m.value}`;
}

function renderSilences(now) {
  const list = S.state.silenceList(now);
  const live = list.filter((s) => R.silenceState(s, now) !== "expired").length;
  $("silence-count").textContent = `${live} in force or pending`;
  replace($("silence-list"), list.length === 0 ? el("div", { class: "muted", text: "No silences." }) :
    list.map((s) => {
      const st = R.silenceState(s, now);
      return el("div", { class: "silence " + st, "data-silence-id": s.id, "data-silence-state": st },
        el("div", { class: "row" },
          el("span", { class: "matchers" }, (s.matchers || []).map((m) => el("code", { text: matcherText(m) }))),
          st !== "expired" && canChange() ? el("button", { class: "btn small danger", "data-action": "expire", "data-silence-id": s.id, text: "Expire" }) : null),
        el("div", { class: "muted" },
          `${s.id} · ${st} · until ${fmtTime(s.end_time)} · ${s.created_by}` + (s.expired_by ? ` · ended by ${s.expired_by}` : "")),
        s.comment ? el("div", { text: s.comment }) : null);
    }));
}

function renderInhibitions() {
  const inh = S.state.inhibitions || [];
  replace($("inhibition-list"), inh.length === 0 ? el("div", { class: "muted", text: "None." }) :
    inh.map((i) => el("div", { class: "silence", "data-inhibition": i.measure_id },
      el("div", null, el("code", { text: i.measure_id }), " ", el("span", { class: "muted", text: i.rule })),
      el("div", { class: "muted", text: (i.reason || "") + (i.until_time ? ` (until ${fmtTime(i.until_time)})` : "") }))));
}

function renderAudit() {
  replace($("audit-list"), S.audit.length === 0 ? el("div", { class: "muted", text: `Audit sequence ${S.state.auditSequence}.` }) :
    S.audit.slice(0, 50).map((r) => {
      const act = String(r.action).replace(/^AUDIT_ACTION_/, "").toLowerCase().replace(/_/g, " ");
      const what = r.acknowledgement && (r.acknowledgement.alert_id || r.acknowledgement.event_id) ||
                   r.silence && `${r.silence.id} ${(r.silence.matchers || []).map(matcherText).join(" ")}` || "";
      return el("div", { "data-audit-seq": num(r.sequence) },
        el("span", { class: "muted", text: `#${num(r.sequence)} ${fmtTime(r.time).slice(11)} ` }), `${r.actor} ${act} `, el("code", { text: what }));
    }));
}

// ---------------------------------------------------------------- actions
async function ackAlert(id) {
  await change(() => rpc("ConsoleService", "AcknowledgeAlert", { alert_id: id }), "Acknowledged");
}
async function unackAlert(id) {
  await change(() => rpc("ConsoleService", "DeleteAcknowledgement", { alert_id: id }), "Acknowledgement taken back");
}
async function ackEvent(id) {
  await change(() => rpc("ConsoleService", "AcknowledgeEvent", { event_id: id }), "Event acknowledged");
}
async function unackEvent(id) {
  await change(() => rpc("ConsoleService", "DeleteAcknowledgement", { event_id: id }), "Event acknowledgement taken back");
}
async function expireSilence(id) {
  await change(() => rpc("ConsoleService", "ExpireSilence", { silence_id: id }), `Silence ${id} expired`);
}

function onActionClick(e) {
  const b = e.target.closest("[data-action]");
  if (b) {
    const act = b.dataset.action;
    if (act === "open-event") return;  // a link
    e.preventDefault();
    e.stopPropagation();
    if (b.disabled) return;
    const aid = b.dataset.alertId;
    const eid = b.dataset.eventId;
    if (act === "ack") ackAlert(aid);
    else if (act === "unack") unackAlert(aid);
    else if (act === "ack-event") ackEvent(eid);
    else if (act === "unack-event") unackEvent(eid);
    else if (act === "expire") expireSilence(b.dataset.silenceId);
    else if (act === "silence") openSilenceDialog(S.byId.get(aid) || { alert_id: aid, event_id: R.parseAlertId(aid)?.event_id });
    else if (act === "silence-event") openSilenceDialog(null, eid);
    return;
  }
  const row = e.target.closest("tr[data-alert-id]");
  if (row && !e.target.closest("summary")) location.hash = "#/alert/" + encodeURIComponent(row.dataset.alertId);
}

// ---------------------------------------------------------------- silence dialog
function openSilenceDialog(alert, eventId) {
  const ms = [];
  if (alert) {
    if (R.isTicker(alert)) ms.push(["MATCHER_FIELD_TICKER", alert.subject, true]);
    ms.push(["MATCHER_FIELD_EVENT", alert.event_id, !R.isTicker(alert)]);
    if (alert.sector) ms.push(["MATCHER_FIELD_SECTOR", alert.sector, R.isSector(alert)]);
    if (alert.country) ms.push(["MATCHER_FIELD_COUNTRY", alert.country, false]);
    if (alert.severity) ms.push(["MATCHER_FIELD_SEVERITY", sevName(alert.severity), false]);
    if (alert.measure_id) ms.push(["MATCHER_FIELD_MEASURE", alert.measure_id, false]);
  } else {
    const ev = S.events.get(eventId) || {};
    ms.push(["MATCHER_FIELD_EVENT", eventId, true]);
    if (ev.measure_id) ms.push(["MATCHER_FIELD_MEASURE", ev.measure_id, false]);
    if (ev.imposing_country) ms.push(["MATCHER_FIELD_COUNTRY", ev.imposing_country, false]);
  }
  replace($("silence-matchers"), el("div", { class: "muted", text: "Matchers (all must match):" }),
    ms.map(([field, value, checked], i) => {
      const short = field.replace(/^MATCHER_FIELD_/, "").toLowerCase();
      return el("label", { class: "check" },
        el("input", { type: "checkbox", id: `sil-m-${short}`, "data-field": field, "data-value": value, checked: checked || null }),
        ` ${short} ${short === "severity" ? "≤" : "="} `, el("code", { text: value }));
    }));
  $("sil-1h").checked = true;
  const later = new Date(Date.now() + 4 * 3600e3);
  $("sil-until").value = new Date(later.getTime() - later.getTimezoneOffset() * 60e3).toISOString().slice(0, 16);
  $("sil-comment").value = "";
  $("silence-error").classList.add("hidden");
  $("silence-dialog").classList.remove("hidden");
  $("dialog-backdrop").classList.remove("hidden");
  $("sil-comment").focus();
}
function closeSilenceDialog() {
  $("silence-dialog").classList.add("hidden");
  $("dialog-backdrop").classList.add("hidden");
}
async function createSilence(ev) {
  ev.preventDefault();
  const matchers = [...document.querySelectorAll("#silence-matchers input:checked")].map((i) => ({
    field: i.dataset.field, value: i.dataset.value }));
  const err = $("silence-error");
  const show = (m) => { err.textContent = m; err.classList.remove("hidden"); };
  if (matchers.length === 0) return show("Pick at least one matcher.");
  const comment = $("sil-comment").value.trim();
  if (!comment) return show("A comment is required.");
  let end;
  if ($("sil-until-radio").checked) {
    const t = new Date($("sil-until").value);
    if (Number.isNaN(t.getTime())) return show("Give an end time.");
    end = t.getTime() + S.clockOffset;
  } else {
    end = serverNow() + 3600e3;
  }
  try {
    await rpc("ConsoleService", "CreateSilence", { silence: { matchers, end_time: new Date(end).toISOString(), comment } });
    closeSilenceDialog();
    toast("Silence created");
  } catch (e) {
    show(`${e.code || e.status}: ${e.message}`);
  }
}

// ---------------------------------------------------------------- routing
const VIEWS = ["login", "live", "alert", "event", "history", "book", "whatif", "portfolio", "health"];
function showView(name) {
  S.view = name;
  for (const v of VIEWS) $("view-" + v).classList.toggle("hidden", v !== name);
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.view === name);
  document.body.dataset.view = name;
  if (S.healthTimer && name !== "health") { clearInterval(S.healthTimer); S.healthTimer = null; }
}
function route() {
  if (!S.session) { showLogin(); return; }
  const h = location.hash.replace(/^#\/?/, "");
  const [name, ...rest] = h.split("/");
  const arg = rest.length ? decodeURIComponent(rest.join("/")) : "";
  switch (name) {
    case "alert": showView("alert"); renderAlertView(arg); break;
    case "event": showView("event"); renderEventView(arg); break;
    case "history": showView("history"); break;
    case "book": showView("book"); break;
    case "whatif": showView("whatif"); renderPresets(); renderScenarioEvents(); break;
    case "portfolio": showView("portfolio"); renderHoldings(); break;
    case "health": showView("health"); renderHealth(); S.healthTimer = S.healthTimer || setInterval(renderHealth, 2000); break;
    case "login": location.hash = "#/live"; break;
    default: showView("live"); renderLive();
  }
}

// ---------------------------------------------------------------- charts
// Horizontal bars around a zero line: rows [{label, value, data}].
function hbarChart(rows, { width = 640, rowH = 16, labelW = 150, fmt = fmtBps, id, unit = "bps" } = {}) {
  const valueW = 70;
  const plotW = width - labelW - valueW * 2;
  const max = Math.max(1e-9, ...rows.map((r) => Math.abs(num(r.value))));
  const hasNeg = rows.some((r) => num(r.value) < 0);
  const hasPos = rows.some((r) => num(r.value) > 0);
  const zeroX = labelW + valueW + (hasNeg && hasPos ? plotW / 2 : hasNeg ? plotW : 0);
  const scale = (hasNeg && hasPos ? plotW / 2 : plotW) / max;
  const h = rows.length * rowH + 24;
  const s = svg("svg", { width, height: h, viewBox: `0 0 ${width} ${h}`, id, role: "img",
                         "aria-label": `bar chart, ${unit}` });
  s.appendChild(svg("line", { class: "axis", x1: zeroX, x2: zeroX, y1: 4, y2: h - 18 }));
  rows.forEach((r, i) => {
    const v = num(r.value);
    const y = 6 + i * rowH;
    const w = Math.max(v === 0 ? 0 : 1, Math.abs(v) * scale);
    const x = v < 0 ? zeroX - w : zeroX;
    s.appendChild(svg("text", { x: labelW - 6, y: y + rowH * 0.7, "text-anchor": "end", text: r.label }));
    const rect = svg("rect", { x, y: y + 2, width: w, height: rowH - 4,
                               class: v > 0 ? "bar-pos" : v < 0 ? "bar-neg" : "bar-zero" },
      svg("title", { text: `${r.title || r.label}: ${fmt(v)} ${unit}` }));
    for (const [k, val] of Object.entries(r.data || {})) rect.setAttribute("data-" + k, String(val));
    s.appendChild(rect);
    s.appendChild(svg("text", { x: v < 0 ? x - 4 : x + w + 4, y: y + rowH * 0.7,
                                "text-anchor": v < 0 ? "end" : "start", class: "muted", text: fmt(v) }));
  });
  s.appendChild(svg("text", { x: zeroX, y: h - 4, "text-anchor": "middle", class: "muted", text: `0 ${unit}` }));
  return s;
}

// Vertical bars per step with a running total line: points [{label, value}].
function runningChart(points, { width = 820, height = 280, id, fmt = fmtMoney } = {}) {
  const padL = 80, padR = 16, padT = 14, padB = 130;
  const totals = [];
  let t = 0;
  for (const p of points) { t += num(p.value); totals.push(t); }
  const all = [0, ...points.map((p) => num(p.value)), ...totals];
  const lo = Math.min(...all), hi = Math.max(...all);
  const span = hi - lo || 1;
  const plotH = height - padT - padB;
  const y = (v) => padT + (hi - v) / span * plotH;
  const n = Math.max(1, points.length);
  const bw = (width - padL - padR) / n;
  const s = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, id, role: "img", "aria-label": "impact per event and running total" });
  for (let k = 0; k <= 4; k++) {
    const v = lo + span * k / 4;
    s.appendChild(svg("line", { class: "grid", x1: padL, x2: width - padR, y1: y(v), y2: y(v) }));
    s.appendChild(svg("text", { x: padL - 6, y: y(v) + 4, "text-anchor": "end", class: "muted", text: fmtCompact(v) }));
  }
  s.appendChild(svg("line", { class: "axis", x1: padL, x2: width - padR, y1: y(0), y2: y(0) }));
  points.forEach((p, i) => {
    const v = num(p.value);
    const x = padL + i * bw + bw * 0.15;
    const top = Math.min(y(v), y(0));
    const hgt = Math.max(v === 0 ? 0 : 1, Math.abs(y(v) - y(0)));
    s.appendChild(svg("rect", { x, y: top, width: Math.max(1, bw * 0.7), height: hgt, class: v >= 0 ? "bar-pos" : "bar-neg",
                                "data-step": i, "data-impact": v.toFixed(2) },
      svg("title", { text: `${p.title || p.label}: ${fmt(v)} (running ${fmt(totals[i])})` })));
    if (n <= 40 || i % Math.ceil(n / 40) === 0) {
      const lx = padL + i * bw + bw / 2;
      s.appendChild(svg("text", { x: lx, y: height - padB + 12, "text-anchor": "end", class: "muted",
                                  transform: `rotate(-45 ${lx} ${height - padB + 12})`, text: p.label }));
    }
  });
  const path = totals.map((v, i) => `${i ? "L" : "M"}${(padL + i * bw + bw / 2).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  if (totals.length) s.appendChild(svg("path", { class: "line-total", d: path }));
  totals.forEach((v, i) => s.appendChild(svg("circle", { class: "dot-total", cx: padL + i * bw + bw / 2, cy: y(v), r: 3, "data-total": v.toFixed(2) },
    svg("title", { text: `running total ${fmt(v)}` }))));
  return s;
}
function fmtCompact(v) {
  const a = Math.abs(v);
  const sgn = v < 0 ? "-" : "";
  if (a >= 1e9) return sgn + (a / 1e9).toFixed(1) + "B";
  if (a >= 1e6) return sgn + (a / 1e6).toFixed(1) + "M";
  if (a >= 1e3) return sgn + (a / 1e3).toFixed(0) + "k";
  return v.toFixed(0);
}

// ---------------------------------------------------------------- alert detail
const CHANNELS = ["CHANNEL_IMPORT_COST", "CHANNEL_EXPORT", "CHANNEL_PROTECTION", "CHANNEL_SPILLOVER"];

async function findAlert(id) {
  if (S.byId.has(id)) return S.byId.get(id);
  const p = R.parseAlertId(id);
  if (!p) throw new Error(`'${id}' is not an alert id`);
  const r = await rpc("TariffEventService", "GetEvent", { event_id: p.event_id });
  for (const a of r.alerts || []) if (!S.byId.has(a.alert_id)) S.byId.set(a.alert_id, a);
  const a = (r.alerts || []).find((x) => x.alert_id === id);
  if (!a) throw new Error(`alert ${id} is no longer in the log`);
  return a;
}

async function renderAlertView(id) {
  const root = $("view-alert");
  replace(root, el("div", { class: "muted", text: "Loading…" }));
  let a;
  try { a = await findAlert(id); } catch (e) {
    replace(root, el("p", { class: "error", text: e.message }), el("a", { href: "#/live", text: "Back to the live view" }));
    return;
  }
  if (S.view !== "alert") return;
  const m = S.state.mark(a, serverNow());
  const sums = new Map(CHANNELS.map((c) => [c, 0]));
  for (const c of a.contributions || []) sums.set(c.channel, (sums.get(c.channel) || 0) + num(c.bps));
  const sev = sevName(a.severity);
  const ticker = R.isTicker(a);
  const contribRows = (a.contributions || []).map((c, i) => el("tr", { "data-channel": c.channel, "data-index": i },
    el("td", { text: channelName(c.channel) }), el("td", { text: c.country }), el("td", { text: c.product_code }),
    el("td", { class: "num", text: fmtPct(c.delta_pct, 1) }),
    el("td", { class: "num", text: fmtShare(c.exposure_share) }),
    el("td", { class: "num", text: fmtShare(c.revenue_share) }),
    el("td", { class: "num", text: fmtShare(c.market_factor) }),
    el("td", { class: "num", text: fmtShare(c.cogs_ratio) }),
    el("td", { class: "num", text: fmtShare(c.sector_factor) }),
    el("td", { class: "num", text: fmtShare(c.partner_weight) }),
    el("td", { class: "num", text: fmtShare(c.probability) }),
    el("td", { text: c.customer ? `${c.customer} (${fmtBps(c.customer_score_bps)})` : "" }),
    el("td", { class: "num " + signClass(c.bps), text: fmtBps(c.bps) })));
  replace(root,
    el("div", { class: "detail-head", id: "alert-detail", "data-alert-id": a.alert_id, "data-seq": num(a.sequence) || null },
      el("a", { href: "#/live", text: "← live" }),
      el("span", { class: "big", text: a.subject }),
      el("span", { text: ticker ? `${a.name} · ${a.sector} · ${a.country}` : "sector" }),
      el("span", { class: "sev " + sev, text: sev }),
      el("span", { class: "big " + signClass(a.score_bps), id: "alert-score", text: `${fmtBps(a.score_bps)} bps` }),
      ticker ? el("span", { class: signClass(a.operating_profit_change_pct), text: `${fmtPct(a.operating_profit_change_pct)}% of operating profit` }) : null,
      el("span", { id: "alert-marks" }, markBadges(m)),
      el("span", { id: "alert-actions" }, detailActions(a, m))),
    el("div", { class: "explanation", id: "alert-explanation", text: a.explanation || "(no explanation)" }),
    el("div", { class: "detail-grid" },
      el("div", { class: "panel" },
        el("h3", { text: "Contributions by channel (bps of revenue)" }),
        el("div", { class: "chart" }, hbarChart(CHANNELS.map((c) => ({ label: channelName(c), value: sums.get(c),
          data: { channel: c, bps: sums.get(c).toFixed(3) } })), { id: "contrib-chart", rowH: 26, width: 600 }))),
      el("div", { class: "panel" },
        el("h3", { text: "Stamps" }),
        kv([["model", a.model_version, { id: "stamp-model" }], ["exposure version", a.exposure_version, { id: "stamp-exposure" }],
            ["book revision", num(a.book_revision), { id: "stamp-book" }], ["sequence", num(a.sequence)],
            ["created", fmtTime(a.created_time)], ["alert id", a.alert_id]], { id: "alert-stamps" }),
        el("h3", { text: "Event" }),
        kv([["headline", a.headline], ["event", el("a", { href: "#/event/" + encodeURIComponent(a.event_id), text: a.event_id })],
            ["measure", a.measure_id], ["stage", stageName(a.stage)],
            ["imposing → targets", `${a.imposing_country} → ${targetsText(a)}`], ["products", productsText(a)]]))),
    el("div", { class: "panel" },
      el("h3", { text: "Inputs of each contribution" }),
      el("p", { class: "muted", text: "bps = sign × Δ/100 × exposure share × market factor × COGS ratio × sector factor × partner weight × probability × 10000 (sign −1 for import cost and export)." }),
      table(["channel", "partner", "product", { label: "Δ pp", class: "num" }, { label: "exposure", class: "num" },
             { label: "revenue(I)", class: "num" }, { label: "market", class: "num" }, { label: "COGS", class: "num" },
             { label: "sector f.", class: "num" }, { label: "partner w.", class: "num" }, { label: "prob.", class: "num" },
             "customer (score)", { label: "bps", class: "num" }], contribRows, { id: "contrib-table" })),
    (a.parameters || []).length ? el("div", { class: "panel" }, el("h3", { text: "Model parameters" }),
      table(["name", { label: "value", class: "num" }], a.parameters.map((p) => el("tr", null,
        el("td", { text: p.name }), el("td", { class: "num", text: String(p.value) }))), { id: "alert-parameters" })) : null);
}

function detailActions(a, m) {
  if (!canChange()) return [];
  const own = m.acknowledgement && m.acknowledgement.alert_id;
  return [
    el("button", { class: "btn small", "data-action": own ? "unack" : "ack", "data-alert-id": a.alert_id,
                   disabled: m.acknowledgement && !own ? true : null, text: own ? "Unack" : "Ack" }),
    " ",
    el("button", { class: "btn small", "data-action": "silence", "data-alert-id": a.alert_id, text: "Silence…" }),
  ];
}

function refreshMarksInDetail() {
  const d = $("alert-detail");
  if (S.view === "alert" && d) {
    const a = S.byId.get(d.dataset.alertId);
    if (!a) return;
    const m = S.state.mark(a, serverNow());
    replace($("alert-marks"), markBadges(m));
    replace($("alert-actions"), detailActions(a, m));
  }
  const e = $("event-detail");
  if (S.view === "event" && e) {
    const ack = S.state.eventAcknowledgement(e.dataset.eventId);
    replace($("event-actions"), eventActions(e.dataset.eventId, ack));
  }
}

// ---------------------------------------------------------------- event view
function eventActions(eventId, ack) {
  const out = [];
  if (ack) out.push(el("span", { class: "badge ack", text: `EVENT ACK by ${ack.actor}` }), " ");
  if (canChange()) out.push(el("button", { class: "btn small", "data-action": ack ? "unack-event" : "ack-event", "data-event-id": eventId,
                                          text: ack ? "Unack event" : "Ack event" }));
  return out;
}

async function renderEventView(eventId) {
  const root = $("view-event");
  replace(root, el("div", { class: "muted", text: "Loading…" }));
  let r;
  try { r = await rpc("TariffEventService", "GetEvent", { event_id: eventId }); } catch (e) {
    replace(root, el("p", { class: "error", text: `${e.code || ""} ${e.message}` }), el("a", { href: "#/live", text: "Back" }));
    return;
  }
  if (S.view !== "event") return;
  const ev = r.event || {};
  const res = r.result || {};
  const alerts = r.alerts || [];
  for (const a of alerts) if (!S.byId.has(a.alert_id)) S.byId.set(a.alert_id, a);
  const tickers = alerts.filter(R.isTicker).sort((x, y) => num(y.score_bps) - num(x.score_bps));
  const sectorAlerts = alerts.filter(R.isSector);
  const roll = new Map();
  for (const a of tickers) {
    const g = roll.get(a.sector) || { sector: a.sector, n: 0, sum: 0, worst: null, best: null };
    g.n++; g.sum += num(a.score_bps);
    if (!g.worst || num(a.score_bps) < num(g.worst.score_bps)) g.worst = a;
    if (!g.best || num(a.score_bps) > num(g.best.score_bps)) g.best = a;
    roll.set(a.sector, g);
  }
  const sectorScore = new Map(sectorAlerts.map((a) => [a.subject, num(a.score_bps)]));
  const rollRows = [...roll.values()].sort((x, y) => Math.abs(y.sum) - Math.abs(x.sum)).map((g) => el("tr", { "data-sector": g.sector },
    el("td", { text: g.sector }), el("td", { class: "num", text: g.n }),
    el("td", { class: "num " + signClass(sectorScore.get(g.sector)), text: sectorScore.has(g.sector) ? fmtBps(sectorScore.get(g.sector)) : "–" }),
    el("td", { class: "num " + signClass(g.sum), text: fmtBps(g.sum) }),
    el("td", { class: "num " + signClass(g.sum / g.n), text: fmtBps(g.sum / g.n) }),
    el("td", { text: `${g.worst.subject} ${fmtBps(g.worst.score_bps)}` }),
    el("td", { text: `${g.best.subject} ${fmtBps(g.best.score_bps)}` })));
  const rc = (res.rate_changes || []).map((c) => el("tr", null,
    el("td", { text: c.target_country }), el("td", { text: c.product_code }),
    el("td", { class: "num", text: fmtRate(c.previous_rate_pct) }), el("td", { class: "num", text: fmtRate(c.new_rate_pct) }),
    el("td", { class: "num " + signClass(-(num(c.new_rate_pct) - num(c.previous_rate_pct))), text: fmtPct(num(c.new_rate_pct) - num(c.previous_rate_pct), 1) + " pp" })));
  const measuresBox = el("div", { id: "event-measures" }, el("span", { class: "muted", text: "Loading the book's measures…" }));
  replace(root,
    el("div", { class: "detail-head", id: "event-detail", "data-event-id": eventId },
      el("a", { href: "#/live", text: "← live" }),
      el("h2", { text: ev.headline || eventId }),
      el("span", { id: "event-actions" }, eventActions(eventId, S.state.eventAcknowledgement(eventId)))),
    el("div", { class: "detail-grid" },
      el("div", { class: "panel" },
        el("h3", { text: "The event" }),
        kv([["event id", eventId], ["measure", ev.measure_id || "(default)"], ["stage", stageName(ev.stage)],
            ["imposing → targets", `${ev.imposing_country} → ${targetsText(ev)}`], ["products", productsText(ev)],
            ["new rate (measure's own)", ev.new_rate_pct !== undefined && ev.new_rate_pct !== null ? fmtRate(ev.new_rate_pct) : "–"],
            ev.snap_back_rate_pct !== undefined && ev.snap_back_rate_pct !== null ? ["snap-back rate", fmtRate(ev.snap_back_rate_pct)] : null,
            ev.probability !== undefined && ev.probability !== null ? ["probability", String(ev.probability)] : null,
            ["announced", fmtTime(ev.announced_time)], ["effective", fmtTime(ev.effective_time)],
            ev.expires_time ? ["expires", fmtTime(ev.expires_time)] : null,
            ev.source_url ? ["source", el("a", { href: ev.source_url, rel: "noopener noreferrer", target: "_blank", text: ev.source_url })] : null]),
        el("h3", { text: "Publish result" }),
        kv([["alerts", num(res.alert_count)], ["sequences", `${num(res.first_sequence)}–${num(res.last_sequence)}`],
            ["book revision after", num(res.book_revision)], ["exposure version", res.exposure_version],
            (res.warnings || []).length ? ["warnings", res.warnings.join("; ")] : null])),
      el("div", { class: "panel" },
        el("h3", { text: "Rate change (effective rate: all measures summed)" }),
        table(["partner", "product", { label: "from", class: "num" }, { label: "to", class: "num" }, { label: "change", class: "num" }], rc, { id: "event-rate-changes" }),
        el("h3", { text: "Measures stacked on these goods (the book now)" }),
        measuresBox)),
    el("div", { class: "detail-grid" },
      el("div", { class: "panel" },
        el("h3", { text: `Winners and losers: ${tickers.length} ticker alerts, sorted (bps of revenue)` }),
        el("div", { class: "chart scroll" }, hbarChart(tickers.map((a) => ({ label: a.subject, title: `${a.subject} ${a.name}`, value: a.score_bps,
          data: { ticker: a.subject, "alert-id": a.alert_id, score: num(a.score_bps).toFixed(2) } })), { id: "event-chart", width: 560, rowH: 14, labelW: 90 }))),
      el("div", { class: "panel" },
        el("h3", { text: "Sector roll-up" }),
        table(["sector", { label: "alerts", class: "num" }, { label: "sector alert", class: "num" }, { label: "Σ tickers", class: "num" },
               { label: "mean", class: "num" }, "worst", "best"], rollRows, { id: "event-sectors" }))));
  root.querySelector("#event-chart")?.addEventListener("click", (e) => {
    const rect = e.target.closest("rect[data-alert-id]");
    if (rect) location.hash = "#/alert/" + encodeURIComponent(rect.getAttribute("data-alert-id"));
  });
  loadEventMeasures(ev, res, measuresBox);
}

async function loadEventMeasures(ev, res, box) {
  const pairs = [];
  const seen = new Set();
  for (const c of res.rate_changes || []) {
    if (!c.target_country || c.target_country === "*") continue;
    const exporter = c.target_country === "EU" ? "DE" : c.target_country;
    const product = c.product_code === "*" ? "" : c.product_code;
    const k = exporter + "|" + product;
    if (seen.has(k) || pairs.length >= 4) continue;
    seen.add(k);
    pairs.push({ exporter, product, label: c.target_country === "EU" ? "EU (as DE)" : c.target_country });
  }
  if (pairs.length === 0) {
    replace(box, el("span", { class: "muted", text: "An all-partners event: open the tariff book for one partner." }));
    return;
  }
  const parts = [];
  for (const p of pairs) {
    try {
      const t = await rpc("TariffBookService", "GetTariff", { imposing_country: ev.imposing_country, exporting_country: p.exporter, product_code: p.product });
      parts.push(el("div", null, el("b", { text: `${ev.imposing_country} ← ${p.label} ${p.product || "all goods"}: ${fmtRate(t.effective_rate_pct)}` }),
        measuresTable(t.measures || [])));
    } catch (e) {
      parts.push(el("div", { class: "error", text: `${p.label}: ${e.message}` }));
    }
  }
  replace(box, parts);
}

// GetTariff's lines: each measure that reaches the goods, what it adds and why.
function linesTable(ls, attrs) {
  return table(["measure (last event)", "authority", { label: "rate", class: "num" }, { label: "adds", class: "num" }, "why"],
    ls.map((l) => el("tr", { "data-measure-id": l.measure_id, "data-applies": l.applies ? "1" : "0" },
      el("td", null, el("div", { class: "mono nowrap", text: l.measure_id }), el("div", { class: "muted small wrap", text: l.event_id || "" })),
      el("td", { class: "nowrap", text: (l.authority || "AUTHORITY_UNSPECIFIED").replace("AUTHORITY_", "") }),
      el("td", { class: "num", text: fmtRate(l.rate_pct || 0) }),
      el("td", { class: "num", text: fmtRate(l.applied_pct || 0) }),
      el("td", { class: "wrap", text: l.reason || "" }))), attrs);
}

function measuresTable(ms, attrs) {
  return table(["measure (last event)", "in force", { label: "rate", class: "num" }, "targets", "products", "pause", "pending"],
    ms.map((m) => el("tr", { "data-measure-id": m.measure_id },
      el("td", null, el("div", { class: "mono nowrap", text: m.measure_id }), el("div", { class: "muted small wrap", text: m.event_id })),
      el("td", { text: m.in_force ? "yes" : "no" }),
      el("td", { class: "num", text: fmtRate(m.rate_pct) }), el("td", { text: targetsText(m) }), el("td", { class: "wrap", text: productsText(m) }),
      el("td", { text: m.pause && m.pause.expires_time ? `snap back to ${fmtRate(m.pause.snap_back_rate_pct)} at ${fmtTime(m.pause.expires_time)}` : "" }),
      el("td", { text: m.pending && m.pending.stage && m.pending.stage !== "STAGE_UNSPECIFIED"
        ? `${stageName(m.pending.stage)} ${fmtRate(m.pending.rate_pct)} p=${m.pending.probability}` : "" }))), attrs);
}

// ---------------------------------------------------------------- history
let historyTokens = [""];
let historyPage = 0;
function historyRequest(token) {
  const split = (v) => v.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
  const filter = {};
  const t = split($("h-ticker").value.toUpperCase());
  if ($("h-holdings").checked) t.push(...S.holdings.map((h) => h.ticker));
  if (t.length) filter.tickers = [...new Set(t)];
  const sector = $("h-sector").value.trim();
  if (sector) filter.sectors = [sector];
  const c = split($("h-country").value.toUpperCase());
  if (c.length) filter.countries = c;
  const sev = Number($("h-severity").value);
  if (sev) filter.min_severity = "SEVERITY_" + R.SEVERITIES[sev - 1];
  filter.subject_kinds = $("h-kind").value ? [$("h-kind").value] : ["SUBJECT_KIND_TICKER", "SUBJECT_KIND_SECTOR"];
  const req = { filter, page_size: Number($("h-page-size").value) || 100 };
  const st = $("h-start").value, en = $("h-end").value;
  if (st) req.start_time = new Date(st).toISOString();
  if (en) req.end_time = new Date(en).toISOString();
  if (token) req.page_token = token;
  return req;
}
async function searchHistory(page) {
  const out = $("history-result");
  try {
    const r = await rpc("AlertService", "ListAlerts", historyRequest(historyTokens[page]));
    historyPage = page;
    historyTokens = historyTokens.slice(0, page + 1);
    if (r.next_page_token) historyTokens.push(r.next_page_token);
    const now = serverNow();
    const rows = (r.alerts || []).map((a) => {
      S.byId.set(a.alert_id, S.byId.get(a.alert_id) || a);
      const m = S.state.mark(a, now);
      const sev = sevName(a.severity);
      return el("tr", { class: `alert-row sev-${sev}` + (m.acknowledgement ? " acked" : ""), "data-seq": num(a.sequence), "data-alert-id": a.alert_id },
        el("td", { class: "sevbar" }), el("td", { class: "num muted", text: num(a.sequence) }), el("td", { text: fmtTime(a.created_time) }),
        el("td", { class: "subject", text: a.subject }), el("td", { class: "name", text: a.name }), el("td", { text: a.sector }),
        el("td", { class: "num " + signClass(a.score_bps), text: fmtBps(a.score_bps) }),
        el("td", null, el("span", { class: "sev " + sev, text: sev })), el("td", null, markBadges(m)),
        el("td", { class: "name", title: a.headline, text: a.event_id }));
    });
    replace(out,
      el("div", { class: "toolbar" },
        el("span", { text: `Page ${page + 1} · ${rows.length} alerts · the log holds sequences from ${num(r.oldest_sequence)}` }),
        el("span", { class: "spacer" }),
        el("button", { class: "btn", id: "h-first", type: "button", disabled: page === 0 ? true : null, onclick: () => searchHistory(0), text: "First page" }),
        el("button", { class: "btn", id: "h-prev", type: "button", disabled: page === 0 ? true : null, onclick: () => searchHistory(page - 1), text: "← Previous" }),
        el("button", { class: "btn", id: "h-next", type: "button", disabled: r.next_page_token ? null : true, onclick: () => searchHistory(page + 1), text: "Next →" })),
      rows.length ? table(["", { label: "seq", class: "num" }, "created", "subject", "name", "sector", { label: "score bps", class: "num" }, "sev", "state", "event"],
        rows, { id: "history-table" }) : el("div", { class: "empty", text: "No alert in the log passes this filter." }));
  } catch (e) {
    replace(out, el("p", { class: "error", text: `${e.code || e.status}: ${e.message}` }));
  }
}

// ---------------------------------------------------------------- tariff book
async function lookupTariff(ev) {
  ev.preventDefault();
  const out = $("book-result");
  const req = { imposing_country: $("b-imposing").value.trim().toUpperCase(),
                exporting_country: $("b-exporting").value.trim().toUpperCase(), product_code: $("b-product").value.trim() };
  try {
    const t = await rpc("TariffBookService", "GetTariff", req);
    replace(out, el("div", { class: "panel" },
      el("div", null,
        el("span", { class: "stat" }, "effective rate", el("b", { id: "book-rate", text: fmtRate(t.effective_rate_pct) })),
        el("span", { class: "stat" }, "book revision", el("b", { text: num(t.book_revision) })),
        el("span", { class: "stat" }, "book clock", el("b", { text: fmtTime(t.book_clock_time) }))),
      el("p", { id: "book-explanation", class: "mono wrap", text: t.explanation || "" }),
      el("p", { id: "book-base", class: "muted wrap", text: `Base: ${t.base_rate_source || "none"}` }),
      el("h3", { text: `${req.imposing_country} ← ${req.exporting_country}, ${req.product_code || "all goods"}: what each measure adds, and why` }),
      (t.lines || []).length ? linesTable(t.lines, { id: "book-lines" }) : el("div", { class: "empty", text: "No measure covers these goods." }),
      (t.measures || []).length ? el("details", null, el("summary", { text: "The measures in force and pending" }),
        measuresTable(t.measures, { id: "book-measures" })) : ""));
  } catch (e) {
    replace(out, el("p", { class: "error", text: `${e.code || e.status}: ${e.message}` }));
  }
}

// ---------------------------------------------------------------- what-if
async function loadPresets() {
  try {
    const r = await request("GET", "/api/presets");
    S.presets = (r && r.presets) || [];
  } catch { S.presets = []; }
  renderPresets();
  const sel = $("p-preset");
  replace(sel, S.presets.map((p) => el("option", { value: p.id, text: p.name })));
}
function renderPresets() {
  replace($("preset-list"), S.presets.length === 0 ? el("div", { class: "muted", text: "No presets." }) :
    S.presets.map((p) => el("div", { class: "preset", "data-preset-id": p.id },
      el("b", { text: p.name }), el("p", { text: p.description || "" }),
      el("button", { class: "btn small", type: "button", "data-preset-load": p.id, onclick: () => loadPreset(p, false), text: "Load" }), " ",
      el("button", { class: "btn small primary", type: "button", "data-preset-run": p.id, onclick: () => loadPreset(p, true), text: "Run" }))));
}
function loadPreset(p, run) {
  S.scenario = JSON.parse(JSON.stringify(p.events || []));
  $("w-until").value = p.until_time || "";
  renderScenarioEvents();
  if (run) runScenario();
}
function renderScenarioEvents() {
  replace($("scenario-events"), S.scenario.length === 0 ? el("div", { class: "muted", text: "No events yet: load a preset or compose one." }) :
    S.scenario.map((e, i) => el("div", { class: "scenario-event", "data-event-id": e.event_id },
      el("span", { class: "mono", text: `${i + 1}.` }),
      el("span", { class: "h" }, el("b", { text: e.event_id }), ` ${stageName(e.stage)} ${e.imposing_country}→${targetsText(e)} ${productsText(e)}` +
        (e.new_rate_pct !== undefined ? ` at ${fmtRate(e.new_rate_pct)}` : ""), el("div", { class: "muted", text: e.headline || "" })),
      el("button", { class: "btn small", type: "button", onclick: () => { S.scenario.splice(i, 1); renderScenarioEvents(); }, text: "Remove" }))));
}
function composeEvent(ev) {
  ev.preventDefault();
  const split = (v) => v.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
  const e = { event_id: $("c-event-id").value.trim(), imposing_country: $("c-imposing").value.trim().toUpperCase(),
              stage: $("c-stage").value };
  const opt = (k, v) => { if (v !== "" && v !== undefined) e[k] = v; };
  opt("measure_id", $("c-measure").value.trim());
  const t = split($("c-targets").value.toUpperCase()); if (t.length) e.target_countries = t;
  const p = split($("c-products").value); if (p.length) e.product_codes = p;
  const x = split($("c-excluded").value); if (x.length) e.excluded_product_codes = x;
  if ($("c-rate").value !== "" && !["STAGE_EXTENDED", "STAGE_REVOKED"].includes(e.stage)) e.new_rate_pct = Number($("c-rate").value);
  if ($("c-snap").value !== "") e.snap_back_rate_pct = Number($("c-snap").value);
  if ($("c-prob").value !== "") e.probability = Number($("c-prob").value);
  opt("effective_time", $("c-effective").value.trim());
  opt("expires_time", $("c-expires").value.trim());
  opt("headline", $("c-headline").value.trim());
  if (!e.event_id) { toast("An event id is needed", true); return; }
  if (S.scenario.some((s) => s.event_id === e.event_id)) { toast("Event ids must be distinct within a scenario", true); return; }
  S.scenario.push(e);
  const m = /^(.*?)(\d+)$/.exec(e.event_id);
  $("c-event-id").value = m ? m[1] + (Number(m[2]) + 1) : e.event_id + "-2";
  renderScenarioEvents();
}

async function scoreScenario(events, { until, holdings, top } = {}) {
  const req = { events, top_n: top || 20 };
  if (until) req.until_time = until;
  if (holdings && holdings.length) req.holdings = holdings;
  return rpc("TariffBookService", "ScoreScenario", req);
}

async function runScenario() {
  const out = $("whatif-result");
  if (S.scenario.length === 0) { replace(out, el("p", { class: "error", text: "Add at least one event." })); return; }
  replace(out, el("div", { class: "muted", text: "Scoring…" }));
  let r;
  try {
    // Every step's alerts (top 200: the whole table), so that the snap-back
    // movers sum each ticker over all snap-back steps; the lists show `top`.
    r = await scoreScenario(S.scenario, { until: $("w-until").value.trim(), top: 200,
                                          holdings: $("w-holdings").checked ? S.holdings : [] });
  } catch (e) {
    replace(out, el("p", { class: "error", id: "whatif-error", text: `${e.code || e.status}: ${e.message}` }));
    return;
  }
  const top = Number($("w-top").value) || 20;
  r.tickers = (r.tickers || []).slice(0, top);
  r.sectors = (r.sectors || []).slice(0, top);
  const steps = r.steps || [];
  const snap = new Map();
  for (const st of steps.filter((s) => s.snap_back)) {
    for (const a of (st.alerts || []).filter(R.isTicker)) {
      const t = snap.get(a.subject) || { subject: a.subject, name: a.name, sector: a.sector, score: 0, op: 0 };
      t.score += num(a.score_bps); t.op += num(a.operating_profit_change_pct);
      snap.set(a.subject, t);
    }
  }
  const snapRows = [...snap.values()].sort((x, y) => Math.abs(y.score) - Math.abs(x.score));
  const moverRow = (t) => el("tr", { "data-ticker": t.subject, "data-score-bps": num(t.score_bps ?? t.score).toFixed(2) },
    el("td", { class: "subject", text: t.subject }), el("td", { class: "name", text: t.name }), el("td", { text: t.sector }),
    el("td", { class: "num " + signClass(t.score_bps ?? t.score), text: fmtBps(t.score_bps ?? t.score) }),
    el("td", { class: "num " + signClass(t.operating_profit_change_pct ?? t.op), text: fmtPct(t.operating_profit_change_pct ?? t.op) }));
  const moverHead = ["ticker", "name", "sector", { label: "score bps", class: "num" }, { label: "op.profit %", class: "num" }];
  replace(out,
    el("div", null,
      el("span", { class: "stat" }, "steps", el("b", { text: steps.length })),
      el("span", { class: "stat" }, "snap-backs", el("b", { id: "whatif-snapback-count", text: steps.filter((s) => s.snap_back).length })),
      el("span", { class: "stat" }, "from book revision", el("b", { text: num(r.book_revision) })),
      el("span", { class: "stat" }, "exposure", el("b", { text: r.exposure_version })),
      el("span", { class: "stat" }, "model", el("b", { text: r.model_version })),
      r.portfolio ? el("span", { class: "stat", id: "whatif-portfolio", "data-impact": num(r.portfolio.impact_value).toFixed(2) }, "portfolio impact",
        el("b", { class: signClass(r.portfolio.impact_value), text: `${fmtMoney(r.portfolio.impact_value)} (${fmtBps(r.portfolio.impact_bps)} bps)` })) : null),
    snapRows.length ? el("div", { class: "panel", id: "whatif-snapback" },
      el("h3", { text: "Snap-back movers (the lapsed pauses' steps)" }),
      el("div", { class: "cols" },
        table(moverHead, snapRows.slice(0, top).map(moverRow), { id: "whatif-snapback-table" }),
        el("div", { class: "chart" }, hbarChart(snapRows.slice(0, top).map((t) => ({ label: t.subject, value: t.score })), { width: 480, labelW: 80 })))) : null,
    el("div", { class: "panel" },
      el("h3", { text: "Top movers over the whole scenario" }),
      el("div", { class: "cols" },
        table(moverHead, (r.tickers || []).map(moverRow), { id: "whatif-movers" }),
        el("div", { class: "chart" }, hbarChart((r.tickers || []).map((t) => ({ label: t.subject, value: t.score_bps })), { width: 480, labelW: 80, id: "whatif-movers-chart" })))),
    el("div", { class: "panel" },
      el("h3", { text: "Sectors" }),
      table(["sector", { label: "score bps", class: "num" }], (r.sectors || []).map((t) => el("tr", { "data-sector": t.subject },
        el("td", { text: t.subject }), el("td", { class: "num " + signClass(t.score_bps), text: fmtBps(t.score_bps) }))), { id: "whatif-sectors" })),
    r.portfolio ? portfolioImpactPanel(r.portfolio, "Portfolio impact over the scenario") : null,
    el("div", { class: "panel" }, el("h3", { text: "Steps" }), steps.map((st, i) => stepBox(st, i))));
}

function stepBox(st, i) {
  const ev = st.event || {};
  const tick = (st.alerts || []).filter(R.isTicker).slice(0, 10);
  return el("div", { class: "step" + (st.snap_back ? " snap-back" : ""), "data-step": i, "data-snap-back": st.snap_back ? "1" : "0", "data-event-id": ev.event_id },
    el("div", null, el("b", { text: `${i + 1}. ${ev.headline || ev.event_id}` }), st.snap_back ? el("span", { class: "badge snap", text: "SNAP-BACK" }) : null),
    el("div", { class: "muted", text: `${ev.event_id} · ${stageName(ev.stage)} · ` +
      ((st.rate_changes || []).map((c) => `${c.target_country} ${c.product_code}: ${+num(c.previous_rate_pct).toFixed(2)}→${+num(c.new_rate_pct).toFixed(2)}`).join(", ") || "no rate change") +
      ` · book rev ${num(st.book_revision)}` + (st.portfolio ? ` · portfolio ${fmtMoney(st.portfolio.impact_value)}` : "") }),
    tick.length ? el("div", { class: "muted" }, tick.map((a) => el("span", { class: signClass(a.score_bps) + " mono", text: `${a.subject} ${fmtBps(a.score_bps)}  ` }))) : null);
}

function portfolioImpactPanel(p, title) {
  return el("div", { class: "panel" },
    el("h3", { text: title }),
    el("div", null,
      el("span", { class: "stat" }, "book", el("b", { text: fmtValue(p.position_value) })),
      el("span", { class: "stat" }, "impact", el("b", { class: signClass(p.impact_value), text: fmtMoney(p.impact_value) })),
      el("span", { class: "stat" }, "bps of book", el("b", { class: signClass(p.impact_bps), text: fmtBps(p.impact_bps) }))),
    table(["ticker", "name", { label: "position", class: "num" }, { label: "score bps", class: "num" }, { label: "op.profit %", class: "num" }, { label: "impact", class: "num" }],
      (p.top_holdings || []).map((h) => el("tr", { "data-ticker": h.ticker },
        el("td", { class: "subject", text: h.ticker }), el("td", { text: h.name }), el("td", { class: "num", text: fmtValue(h.position_value) }),
        el("td", { class: "num " + signClass(h.score_bps), text: fmtBps(h.score_bps) }),
        el("td", { class: "num " + signClass(h.operating_profit_change_pct), text: fmtPct(h.operating_profit_change_pct) }),
        el("td", { class: "num " + signClass(h.impact_value), text: fmtMoney(h.impact_value) })))),
    (p.unknown_tickers || []).length ? el("p", { class: "muted", text: `Not in the exposure table: ${p.unknown_tickers.join(", ")}` }) : null);
}

// ---------------------------------------------------------------- portfolio
function loadHoldings() {
  const text = localStorage.getItem("ta.holdings") || "";
  $("p-csv").value = text;
  S.holdings = R.parseHoldingsCsv(text).holdings;
}
function saveHoldings() {
  const text = $("p-csv").value;
  const { holdings, errors } = R.parseHoldingsCsv(text);
  const e = $("p-errors");
  if (errors.length) { e.textContent = errors.slice(0, 5).join("; "); e.classList.remove("hidden"); } else e.classList.add("hidden");
  S.holdings = holdings;
  localStorage.setItem("ta.holdings", text);
  renderHoldings();
  scheduleRender();
}
function renderHoldings() {
  const total = S.holdings.reduce((s, h) => s + Math.abs(h.position_value), 0);
  replace($("p-holdings"), S.holdings.length === 0 ? el("div", { class: "muted", text: "No holdings." }) :
    table(["ticker", { label: "value", class: "num" }, { label: "weight", class: "num" }], S.holdings.map((h) => el("tr", { "data-ticker": h.ticker },
      el("td", { class: "subject", text: h.ticker }), el("td", { class: "num", text: fmtValue(h.position_value) }),
      el("td", { class: "num", text: (Math.abs(h.position_value) / total * 100).toFixed(1) + "%" }))), { id: "holdings-table" }));
}

async function portfolioFromLog() {
  const tickers = S.holdings.map((h) => h.ticker);
  const value = new Map(S.holdings.map((h) => [h.ticker, h.position_value]));
  const events = new Map();
  let token = "";
  for (let page = 0; page < 100; page++) {
    const r = await rpc("AlertService", "ListAlerts", { filter: { tickers, subject_kinds: ["SUBJECT_KIND_TICKER"] }, page_size: 1000, page_token: token });
    for (const a of r.alerts || []) {
      let e = events.get(a.event_id);
      if (!e) { e = { event_id: a.event_id, headline: a.headline, time: a.created_time, seq: num(a.sequence), impact: 0, holdings: [] }; events.set(a.event_id, e); }
      const p = (a.parameters || []).find((x) => x.name === "valuation_elasticity");
      const el_ = p ? num(p.value) : 1;
      const imp = (value.get(String(a.subject).toUpperCase()) || 0) * num(a.operating_profit_change_pct) / 100 * el_;
      e.impact += imp;
      e.holdings.push({ ticker: a.subject, impact: imp, score: num(a.score_bps) });
    }
    token = r.next_page_token;
    if (!token) break;
  }
  return [...events.values()].sort((x, y) => x.seq - y.seq).map((e) => ({
    label: e.event_id.slice(0, 30), title: e.headline || e.event_id, event_id: e.event_id, time: e.time, value: e.impact,
    top: e.holdings.sort((x, y) => Math.abs(y.impact) - Math.abs(x.impact)).slice(0, 3) }));
}

async function portfolioFromScenario() {
  const p = S.presets.find((x) => x.id === $("p-preset").value);
  if (!p) throw new Error("pick a scenario");
  const r = await scoreScenario(p.events, { until: p.until_time, holdings: S.holdings, top: 5 });
  return (r.steps || []).map((st) => ({
    label: (st.event?.event_id || "").slice(0, 30), title: st.event?.headline || st.event?.event_id, event_id: st.event?.event_id,
    time: st.event?.effective_time || st.event?.announced_time, value: num(st.portfolio?.impact_value), snap: st.snap_back,
    top: (st.portfolio?.top_holdings || []).slice(0, 3).map((h) => ({ ticker: h.ticker, impact: num(h.impact_value) })) }));
}

async function runPortfolio() {
  const out = $("portfolio-result");
  if (S.holdings.length === 0) { replace(out, el("p", { class: "error", text: "Give your holdings first (and press 'Use these holdings')." })); return; }
  replace(out, el("div", { class: "muted", text: "Computing…" }));
  let points;
  try {
    points = $("p-source").value === "scenario" ? await portfolioFromScenario() : await portfolioFromLog();
  } catch (e) {
    replace(out, el("p", { class: "error", text: `${e.code || e.status || ""} ${e.message}` }));
    return;
  }
  const book = S.holdings.reduce((s, h) => s + Math.abs(h.position_value), 0);
  let run = 0;
  const rows = points.map((p, i) => {
    run += p.value;
    return el("tr", { "data-event-id": p.event_id, "data-impact": p.value.toFixed(2), "data-running": run.toFixed(2) },
      el("td", { class: "num muted", text: i + 1 }), el("td", { text: fmtTime(p.time).slice(0, 10) }),
      el("td", { class: "name", title: p.title, text: p.title }),
      el("td", { class: "num " + signClass(p.value), text: fmtMoney(p.value) }),
      el("td", { class: "num " + signClass(p.value), text: fmtBps(p.value / book * 1e4) }),
      el("td", { class: "num " + signClass(run), text: fmtMoney(run) }),
      el("td", { class: "muted", text: p.top.map((h) => `${h.ticker} ${fmtMoney(h.impact)}`).join(", ") }));
  });
  replace(out,
    el("div", null,
      el("span", { class: "stat" }, "book", el("b", { text: fmtValue(book) })),
      el("span", { class: "stat" }, "events", el("b", { text: points.length })),
      el("span", { class: "stat", id: "portfolio-total", "data-total": run.toFixed(2) }, "running total",
        el("b", { class: signClass(run), text: `${fmtMoney(run)} (${fmtBps(run / book * 1e4)} bps)` }))),
    el("p", { class: "muted", text: $("p-source").value === "log"
      ? "Each event's impact from its logged alerts: Σ position × operating-profit change / 100 × e (e = 1, the scoring config's valuation elasticity; docs/scoring.md)."
      : "Each step's portfolio impact as ScoreScenario computes it on a private copy of the current book." }),
    el("div", { class: "chart" }, runningChart(points, { id: "portfolio-chart", height: 340, width: Math.max(760, points.length * 26 + 120) })),
    table([{ label: "#", class: "num" }, "logged", "event", { label: "impact", class: "num" }, { label: "bps", class: "num" },
           { label: "running total", class: "num" }, "largest holdings"], rows, { id: "portfolio-table" }));
}

// ---------------------------------------------------------------- health
async function renderHealth() {
  if (S.view !== "health") return;
  const out = $("health-result");
  let st;
  try { st = await rpc("ConsoleService", "GetServerStatus", {}); } catch (e) {
    replace(out, el("p", { class: "error", id: "health-error", text: `${e.code || e.status}: ${e.message}` }));
    return;
  }
  if (S.view !== "health") return;
  noteServerTime(st.server_time);
  const newest = num(st.log_newest_sequence);
  const reps = st.replicas || [];
  replace(out,
    el("div", null,
      el("span", { class: "stat", id: "health-redis", "data-ok": st.redis_reachable ? "1" : "0" }, "Redis",
        el("b", { class: st.redis_reachable ? "ok" : "bad", text: st.redis_reachable ? "reachable" : "UNREACHABLE" })),
      el("span", { class: "stat" }, "replicas answering", el("b", { id: "health-answering", text: `${reps.filter((r) => r.answering).length} / ${reps.length}` })),
      el("span", { class: "stat" }, "log newest sequence", el("b", { id: "health-newest", text: newest })),
      el("span", { class: "stat" }, "this page received up to", el("b", { text: S.maxSeq })),
      el("span", { class: "stat" }, "page lag", el("b", { text: Math.max(0, newest - S.maxSeq) })),
      el("span", { class: "stat" }, "console audit sequence", el("b", { text: S.state.auditSequence })),
      el("span", { class: "stat" }, "server time", el("b", { text: fmtTime(st.server_time) }))),
    el("div", { class: "panel" },
      el("h3", { text: "Replicas" }),
      table(["replica", "answering", "last seen", "exposure version", { label: "book revision", class: "num" },
             { label: "newest seq", class: "num" }, { label: "lag (seqs)", class: "num" }, ""],
        reps.map((r) => el("tr", { "data-replica-id": r.replica_id, "data-answering": r.answering ? "1" : "0" },
          el("td", { class: "mono", text: r.replica_id }),
          el("td", { class: r.answering ? "ok" : "bad", text: r.answering ? "yes" : "NO" }),
          el("td", { text: fmtTime(r.seen_time) }), el("td", { class: "mono", text: r.exposure_version }),
          el("td", { class: "num", text: num(r.book_revision) }), el("td", { class: "num", text: num(r.newest_sequence) }),
          el("td", { class: "num " + (num(r.lag_sequences) > 0 ? "neg" : ""), text: num(r.lag_sequences) }),
          el("td", { class: "muted", text: r.this_replica ? "← this gateway's" : "" }))), { id: "health-replicas" })),
    el("div", { class: "panel" },
      el("h3", { text: "This page's streams" }),
      kv([["alert stream", $("stream-status").textContent], ["state stream", $("state-status").textContent],
          ["started after sequence", String(stats.startAfter)], ["alerts received", String(stats.alertsReceived)],
          ["repeats dropped", String(stats.duplicates)], ["sequence gaps seen", String(stats.gaps.length)],
          ["reconnects", String(stats.reconnects)], ["state snapshots", String(stats.stateSnapshots)]])));
}

// ---------------------------------------------------------------- wiring
function wire() {
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  window.addEventListener("hashchange", route);
  $("live-list").addEventListener("click", onActionClick);
  $("silence-list").addEventListener("click", onActionClick);
  $("view-alert").addEventListener("click", onActionClick);
  $("view-event").addEventListener("click", onActionClick);
  $("history-result").addEventListener("click", (e) => {
    const row = e.target.closest("tr[data-alert-id]");
    if (row) location.hash = "#/alert/" + encodeURIComponent(row.dataset.alertId);
  });
  for (const id of ["f-ticker", "f-country"]) $(id).addEventListener("input", scheduleRender);
  for (const id of ["f-sector", "f-severity", "f-holdings", "f-show-silenced", "f-hide-acked"]) $(id).addEventListener("change", scheduleRender);
  $("silence-form").addEventListener("submit", createSilence);
  $("sil-cancel").addEventListener("click", closeSilenceDialog);
  $("dialog-backdrop").addEventListener("click", closeSilenceDialog);
  $("sil-until").addEventListener("focus", () => { $("sil-until-radio").checked = true; });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeSilenceDialog(); });
  $("history-form").addEventListener("submit", (e) => { e.preventDefault(); historyTokens = [""]; searchHistory(0); });
  $("book-form").addEventListener("submit", lookupTariff);
  $("compose-form").addEventListener("submit", composeEvent);
  $("w-run").addEventListener("click", runScenario);
  $("w-clear").addEventListener("click", () => { S.scenario = []; $("w-until").value = ""; renderScenarioEvents(); replace($("whatif-result")); });
  $("p-save").addEventListener("click", saveHoldings);
  $("p-run").addEventListener("click", runPortfolio);
  $("p-source").addEventListener("change", () => $("p-preset").classList.toggle("hidden", $("p-source").value !== "scenario"));
  $("p-file").addEventListener("change", async (e) => {
    const f = e.target.files && e.target.files[0];
    if (!f) return;
    $("p-csv").value = await f.text();
    saveHoldings();
  });
}

boot();
