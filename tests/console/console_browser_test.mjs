// The web console in a real browser (Debian's chromium, headless, driven by
// puppeteer-core) against two real tariff-alertd replicas sharing one real
// Redis, each behind its own tariff-console gateway. Started by
// console_browser_test.py, which passes everything in the environment:
//
//   TA_NODE_DIR      where install-node-deps.sh put puppeteer-core
//   TA_URL_A/B       the two gateways (A: replica 1, B: replica 2)
//   TA_SERVER_A      replica 1's gRPC address (the CLI publishes there)
//   TA_CLI           tariff-alert
//   TA_TOKENS        a directory with analyst-a.token, analyst-b.token,
//                    subscriber.token, publisher.token
//   TA_ROOT          the source tree (data/scenarios, data/exposure)
//   TA_ARTIFACTS     where the screenshots go
//   TA_WORK          a scratch directory
//
// Every wait is bounded; both browsers are closed at the end, pass or fail.
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set (run console_browser_test.py)`);
  return v;
};
const require = createRequire(path.join(env("TA_NODE_DIR"), "node_modules", "x.js"));
const puppeteer = require("puppeteer-core");

const URL_A = env("TA_URL_A");
const URL_B = env("TA_URL_B");
const CLI = env("TA_CLI");
const SERVER_A = env("TA_SERVER_A");
const TOKENS = env("TA_TOKENS");
const ROOT = env("TA_ROOT");
const ARTIFACTS = env("TA_ARTIFACTS");
const WORK = env("TA_WORK");
const token = (name) => fs.readFileSync(path.join(TOKENS, name + ".token"), "utf8").trim();

const results = [];
let failures = 0;
function check(name, ok, detail) {
  results.push({ name, ok: !!ok, detail });
  if (!ok) failures++;
  console.log(`${ok ? "PASS" : "FAIL"} ${name}${detail ? ": " + detail : ""}`);
}
function log(...a) { console.log("  ", ...a); }

// ---------------------------------------------------------------- CLI
function publishLines(name, events) {
  const file = path.join(WORK, name + ".jsonl");
  fs.writeFileSync(file, events.map((e) => JSON.stringify(e)).join("\n") + "\n");
  return publishFile(file);
}
function publishFile(file) {
  const out = execFileSync(CLI, ["publish", "--server", SERVER_A, "--insecure", "--json",
                                 "--token-file", path.join(TOKENS, "publisher.token"), "--file", file],
                           { encoding: "utf8", timeout: 60000 });
  return out.split("\n").filter((l) => l.trim().startsWith("{")).map((l) => JSON.parse(l));
}

// The snap-back rows of the CLI's own backtest (docs/replay.md) of the events
// the live book got (the two e2e events, then the 2025 timeline), carried to
// Nov 11: ticker -> bps.
function replaySnapBack(before) {
  const events = path.join(WORK, "replay.jsonl");
  fs.writeFileSync(events, before.map((e) => JSON.stringify(e)).join("\n") + "\n" +
                   fs.readFileSync(path.join(ROOT, "data/scenarios/july-2025.jsonl"), "utf8"));
  const out = path.join(WORK, "replay.csv");
  execFileSync(CLI, ["replay", events, "--exposure-dir", path.join(ROOT, "data/exposure"), "--until", "2025-11-11", "--out", out],
               { encoding: "utf8", timeout: 60000, stdio: ["ignore", "ignore", "pipe"] });
  const rows = parseCsv(fs.readFileSync(out, "utf8"));
  const head = rows.shift();
  const col = (n) => head.indexOf(n);
  const m = new Map();
  for (const r of rows) {
    if (r.length < head.length) continue;
    if (r[col("snap_back")] !== "1" || r[col("subject_kind")] !== "TICKER") continue;
    const t = r[col("subject")];
    m.set(t, (m.get(t) || 0) + Number(r[col("score_bps")]));
  }
  return m;
}
function parseCsv(text) {
  const rows = [];
  let row = [], field = "", q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') q = false;
      else field += c;
    } else if (c === '"') q = true;
    else if (c === ",") { row.push(field); field = ""; }
    else if (c === "\n") { row.push(field); rows.push(row); row = []; field = ""; }
    else if (c !== "\r") field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

// ---------------------------------------------------------------- browser
const LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1600,1000"];
async function launch(name) {
  const dir = fs.mkdtempSync(path.join(WORK, `chromium-${name}-`));
  return puppeteer.launch({ executablePath: "/usr/bin/chromium", headless: true, args: LAUNCH_ARGS,
                            userDataDir: dir, defaultViewport: { width: 1600, height: 1000 },
                            protocolTimeout: 60000, timeout: 30000 });
}
const pageErrors = [];
async function newPage(browser, name) {
  const p = await browser.newPage();
  p.setDefaultTimeout(10000);
  p.on("pageerror", (e) => pageErrors.push(`${name}: ${e.message}`));
  p.on("console", (m) => {
    if (m.type() === "error" && !/Failed to load resource: the server responded with a status of (401|403)/.test(m.text())) {
      pageErrors.push(`${name} console: ${m.text()}`);
    }
  });
  // The CSP the gateway sends must not be what breaks the page.
  p.on("response", (r) => {
    if (r.url().endsWith("/") && r.request().resourceType() === "document") {
      const csp = r.headers()["content-security-policy"] || "";
      if (!/default-src 'self'/.test(csp)) pageErrors.push(`${name}: index without CSP default-src 'self' (${csp})`);
    }
  });
  return p;
}
async function login(page, url, tok) {
  await page.goto(url + "#/login", { waitUntil: "domcontentloaded" });
  await page.waitForSelector("#login-token", { visible: true });
  await page.type("#login-token", tok);
  await Promise.all([page.click("#login-submit")]);
}
async function shot(page, name) {
  const file = path.join(ARTIFACTS, name + ".png");
  await page.screenshot({ path: file, fullPage: false });
  log("screenshot", file);
}
const visibleRows = (page, sel) => page.$$eval(sel, (rs) => rs.length);
async function waitFor(page, fn, arg, timeout = 10000) {
  try {
    await page.waitForFunction(fn, { timeout, polling: 50 }, arg);
    return true;
  } catch { return false; }
}

// ---------------------------------------------------------------- the test
const E1 = { event_id: "e2e-us-vn-46", measure_id: "e2e-us-vn", imposing_country: "US", target_countries: ["VN"],
             stage: "STAGE_EFFECTIVE", new_rate_pct: 46, announced_time: "2025-01-20T00:00:00Z",
             effective_time: "2025-01-20T05:00:00Z", headline: "e2e: US 46% tariff on goods from Vietnam" };
const E2 = { event_id: "e2e-us-mx-threat", measure_id: "e2e-us-mx", imposing_country: "US", target_countries: ["MX"],
             stage: "STAGE_ANNOUNCED", new_rate_pct: 25, announced_time: "2025-01-21T00:00:00Z",
             headline: "e2e: US announces 25% on goods from Mexico" };
// During the Geneva pause: a threat to raise the paused measure, which the
// console's inhibition rule marks inhibited.
const E3 = { event_id: "e2e-us-cn-threat", measure_id: "us-cn-reciprocal", imposing_country: "US", target_countries: ["CN"],
             excluded_product_codes: ["27", "30", "4407", "74", "8471", "8473", "8486", "8517", "8523", "8524", "8528", "8541", "8542"],
             stage: "STAGE_THREATENED", new_rate_pct: 125, previous_rate_pct: 30, announced_time: "2025-08-20T00:00:00Z",
             headline: "e2e: a threat to restore the 145% on China while the pause holds" };

let A, B;
try {
  A = await launch("a");
  B = await launch("b");
  const pa = await newPage(A, "A");
  const pb = await newPage(B, "B");

  // -- a wrong token gets the login page
  await login(pa, URL_A, "not-a-token-" + "x".repeat(20));
  const wrong = await waitFor(pa, () => !document.getElementById("login-error").classList.contains("hidden"));
  const stay = await pa.evaluate(() => ({ hash: location.hash, live: !document.getElementById("view-live").classList.contains("hidden"),
                                          msg: document.getElementById("login-error").textContent }));
  check("a wrong token is refused and stays on the login page", wrong && stay.hash === "#/login" && !stay.live, JSON.stringify(stay));
  const sessionAfterWrong = await pa.evaluate(async () => (await fetch("/api/session")).status);
  check("a wrong token gets no session", sessionAfterWrong === 401, `GET /api/session: ${sessionAfterWrong}`);

  // -- log in: A on replica 1's gateway, B on replica 2's
  await pa.evaluate(() => { document.getElementById("login-token").value = ""; });
  await login(pa, URL_A, token("analyst-a"));
  await login(pb, URL_B, token("analyst-b"));
  const inA = await waitFor(pa, () => location.hash === "#/live" && !document.getElementById("view-live").classList.contains("hidden") &&
                                      document.getElementById("state-status").dataset.state === "live" &&
                                      document.getElementById("stream-status").dataset.state === "live");
  const inB = await waitFor(pb, () => location.hash === "#/live" && document.getElementById("state-status").dataset.state === "live" &&
                                      document.getElementById("stream-status").dataset.state === "live");
  check("log in with an analyst token (both browsers, both gateways), streams live", inA && inB,
        await pa.$eval("#whoami", (e) => e.textContent));

  // -- an event published with the CLI appears in the live view within 2 s
  const t0 = Date.now();
  const [r1] = publishLines("e1", [E1]);
  const n1 = Number(r1.alertCount);
  const sel1 = `#live-list tr[data-event-id="${E1.event_id}"]`;
  const seen1 = await waitFor(pa, ([s, n]) => document.querySelectorAll(s).length === n, [sel1, n1], 5000);
  const dt1 = Date.now() - t0;
  check("a published event's alerts appear in the live view within 2 s", seen1 && dt1 <= 2000 && n1 > 0,
        `${n1} alerts (sequences ${r1.firstSequence}-${r1.lastSequence}) shown ${dt1} ms after the publish started`);
  const seen1b = await waitFor(pb, ([s, n]) => document.querySelectorAll(s).length === n, [sel1, n1], 3000);
  check("the other replica's console shows them too", seen1b);
  const unacked0 = Number(await pa.$eval("#unacked-count", (e) => e.textContent));
  check("the counter counts the unacknowledged alerts", unacked0 === n1, `#unacked-count ${unacked0}, alerts ${n1}`);

  // The grouping: sectors by Σ|score| (the "(sectors)" group last), rows by |score|.
  const order = await pa.evaluate((id) => {
    const g = document.querySelector(`details[data-event-id="${id}"]`);
    const out = [];
    let cur = null;
    for (const tr of g.querySelectorAll("tbody tr")) {
      if (tr.classList.contains("sector-head")) { cur = { s: tr.dataset.sector, rows: [] }; out.push(cur); }
      else cur.rows.push(Math.abs(parseFloat(tr.children[5].textContent)));
    }
    return out;
  }, E1.event_id);
  const sums = order.filter((g) => g.s !== "(sectors)").map((g) => g.rows.reduce((a, b) => a + b, 0));
  const sortedGroups = sums.every((v, i) => i === 0 || sums[i - 1] >= v - 0.2) &&
    (order.findIndex((g) => g.s === "(sectors)") === -1 || order[order.length - 1].s === "(sectors)");
  const sortedRows = order.every((g) => g.rows.every((v, i) => i === 0 || g.rows[i - 1] >= v));
  check("alerts grouped by sector, sectors and rows by |score|, sector alerts last", sortedGroups && sortedRows,
        order.map((g) => `${g.s}(${g.rows.length})`).join(" "));
  await shot(pa, "live-view-first-event");

  // -- the detail shows the contributions
  const firstId = await pa.$eval(`${sel1}`, (r) => r.dataset.alertId);
  await pa.click(`tr[data-alert-id="${firstId}"] td.subject`);
  const detail = await waitFor(pa, (id) => {
    const d = document.getElementById("alert-detail");
    return d && d.dataset.alertId === id && document.querySelectorAll("#contrib-table tbody tr").length > 0;
  }, firstId);
  const info = detail ? await pa.evaluate(() => ({
    bars: [...document.querySelectorAll("#contrib-chart rect")].map((r) => [r.dataset.channel, Number(r.dataset.bps)]),
    rows: document.querySelectorAll("#contrib-table tbody tr").length,
    explanation: document.getElementById("alert-explanation").textContent,
    score: parseFloat(document.getElementById("alert-score").textContent),
    model: document.getElementById("stamp-model").textContent,
    exposure: document.getElementById("stamp-exposure").textContent,
    book: document.getElementById("stamp-book").textContent,
  })) : null;
  const barSum = info ? info.bars.reduce((s, [, v]) => s + v, 0) : NaN;
  check("the alert detail shows the contributions by channel, their inputs and the stamps",
        info && info.bars.length === 4 && info.rows > 0 && Math.abs(barSum - info.score) < 0.15 && info.explanation.length > 20 &&
        info.model && info.exposure && Number(info.book) > 0,
        info && `${firstId}: ${info.rows} contributions, channels ${info.bars.map(([c, v]) => `${c.replace("CHANNEL_", "")}=${v.toFixed(1)}`).join(" ")} sum ${barSum.toFixed(1)} vs score ${info.score}; model ${info.model}, exposure ${info.exposure}, book ${info.book}`);
  await shot(pa, "alert-detail-first-event");

  // -- acknowledging in A shows as acknowledged in B (other replica) within a second
  await pa.goto(URL_A + "#/live", { waitUntil: "domcontentloaded" });
  await pa.waitForSelector(`tr[data-alert-id="${firstId}"] [data-action="ack"]`);
  const t1 = Date.now();
  await pa.click(`tr[data-alert-id="${firstId}"] [data-action="ack"]`);
  const ackB = await waitFor(pb, (id) => {
    const r = document.querySelector(`tr[data-alert-id="${id}"]`);
    return r && r.dataset.state.startsWith("acknowledged");
  }, firstId, 5000);
  const dtAck = Date.now() - t1;
  check("an acknowledgement in browser A shows in browser B on the other replica within 1 s", ackB && dtAck <= 1000, `${dtAck} ms`);
  const unackedB = Number(await pb.$eval("#unacked-count", (e) => e.textContent));
  check("the unacknowledged counter drops by one in B", unackedB === n1 - 1, `${unackedB}`);
  // an event's acknowledgement, from B, covers all its alerts in A
  await pb.click(`details[data-event-id="${E1.event_id}"] [data-action="ack-event"]`);
  const evAck = await waitFor(pa, ([id, n]) => [...document.querySelectorAll(`#live-list tr[data-event-id="${id}"]`)]
    .filter((r) => r.dataset.state.startsWith("acknowledged")).length === n, [E1.event_id, n1], 3000);
  check("acknowledging the event in B marks all its alerts acknowledged in A", evAck);

  // -- a silence hides matching alerts, its end (Expire) brings them back
  const [r2] = publishLines("e2", [E2]);
  const n2 = Number(r2.alertCount);
  const sel2 = `#live-list tr[data-event-id="${E2.event_id}"]`;
  await waitFor(pa, ([s, n]) => document.querySelectorAll(s).length === n, [sel2, n2], 3000);
  await waitFor(pb, ([s, n]) => document.querySelectorAll(s).length === n, [sel2, n2], 3000);
  const victim = await pa.$eval(sel2, (r) => ({ id: r.dataset.alertId, subject: r.dataset.subject }));
  await pa.click(`tr[data-alert-id="${victim.id}"] [data-action="silence"]`);
  await pa.waitForSelector("#silence-dialog:not(.hidden)");
  // the event only (not just the ticker): every alert of the event
  await pa.$eval("#sil-m-ticker", (c) => { if (c.checked) c.click(); });
  await pa.$eval("#sil-m-event", (c) => { if (!c.checked) c.click(); });
  await pa.type("#sil-comment", "e2e: handled, silence the event for 1 h");
  await pa.click("#sil-create");
  const hidA = await waitFor(pa, (s) => document.querySelectorAll(s).length === 0 &&
    document.querySelector('#silence-list [data-silence-state="active"]'), sel2, 3000);
  const hidB = await waitFor(pb, (s) => document.querySelectorAll(s).length === 0 &&
    document.querySelector('#silence-list [data-silence-state="active"]'), sel2, 3000);
  check("a silence hides the matching alerts (both browsers)", hidA && hidB && n2 > 0, `${n2} alerts of ${E2.event_id}`);
  const others = await visibleRows(pa, sel1);
  check("alerts the silence does not match stay", others === n1, `${others} of ${n1}`);
  await pa.click("#f-show-silenced");
  const shownSil = await waitFor(pa, ([s, n]) => [...document.querySelectorAll(s)].filter((r) => r.dataset.state.includes("silenced")).length === n,
                                 [sel2, n2], 3000);
  check("'show silenced' shows them marked silenced", shownSil);
  await pa.click("#f-show-silenced");
  await waitFor(pa, (s) => document.querySelectorAll(s).length === 0, sel2, 3000);
  await shot(pa, "live-view-silence");
  const silId = await pb.$eval('#silence-list [data-silence-state="active"]', (e) => e.dataset.silenceId);
  await pb.click(`#silence-list [data-action="expire"][data-silence-id="${silId}"]`);
  const backA = await waitFor(pa, ([s, n]) => document.querySelectorAll(s).length === n, [sel2, n2], 3000);
  const backB = await waitFor(pb, ([s, n]) => document.querySelectorAll(s).length === n, [sel2, n2], 3000);
  check("expiring the silence (in B) brings the alerts back (both browsers)", backA && backB, silId);

  // -- a state change without the CSRF token is refused
  const csrf = await pa.evaluate(async (id) => {
    const post = (headers) => fetch("/api/rpc/ConsoleService/AcknowledgeAlert", {
      method: "POST", headers: Object.assign({ "Content-Type": "application/json" }, headers),
      body: JSON.stringify({ alert_id: id }) }).then(async (r) => [r.status, await r.text()]);
    return { none: await post({}), wrong: await post({ "X-CSRF-Token": "0".repeat(64) }),
             silence: await fetch("/api/rpc/ConsoleService/CreateSilence", { method: "POST",
               headers: { "Content-Type": "application/json" },
               body: JSON.stringify({ silence: { matchers: [{ field: "MATCHER_FIELD_EVENT", value: "x" }], comment: "x",
                                                 end_time: new Date(Date.now() + 3600e3).toISOString() } }) }).then((r) => r.status) };
  }, victim.id);
  const stillUnacked = await pa.$eval(`tr[data-alert-id="${victim.id}"]`, (r) => r.dataset.state);
  check("a state change without the CSRF token (or with a wrong one) is refused with 403",
        csrf.none[0] === 403 && csrf.wrong[0] === 403 && csrf.silence === 403 && stillUnacked.startsWith("unacknowledged"),
        `no header ${csrf.none[0]} ${csrf.none[1].slice(0, 80)}; wrong ${csrf.wrong[0]}; silence ${csrf.silence}; ${stillUnacked}`);

  // -- a subscriber may read but not change the state
  const ctx = await B.createBrowserContext();
  const ps = await ctx.newPage();
  ps.on("pageerror", (e) => pageErrors.push(`subscriber: ${e.message}`));
  await login(ps, URL_B, token("subscriber"));
  const subOk = await waitFor(ps, (s) => document.querySelectorAll(s).length > 0, sel1, 5000);
  const subButtons = await ps.$$eval('#live-list [data-action="ack"]', (b) => b.length);
  const subDenied = await ps.evaluate(async (id) => {
    const s = await (await fetch("/api/session")).json();
    const r = await fetch("/api/rpc/ConsoleService/AcknowledgeAlert", { method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": s.csrf_token }, body: JSON.stringify({ alert_id: id }) });
    return r.status;
  }, victim.id);
  check("a subscriber sees the alerts, gets no ack buttons, and its acknowledgement is refused", subOk && subButtons === 0 && subDenied === 403,
        `buttons ${subButtons}, AcknowledgeAlert ${subDenied}`);
  await ctx.close();

  // -- the 2025 timeline
  const tl = publishFile(path.join(ROOT, "data/scenarios/july-2025.jsonl"));
  const lastTl = Math.max(...tl.map((r) => Number(r.lastSequence) || 0));
  const caughtUp = await waitFor(pa, (n) => window.__console.stats.lastSequence >= n, lastTl, 15000);
  const tlEvents = fs.readFileSync(path.join(ROOT, "data/scenarios/july-2025.jsonl"), "utf8").split("\n").filter((l) => l.trim()).length;
  check("the 2025 timeline streams in", caughtUp && tl.length === tlEvents, `${tl.length} of ${tlEvents} events, up to sequence ${lastTl}`);

  // -- the tariff book explains a rate line by line: Chinese steel after the
  // timeline pays the fentanyl duty and section 232, not the reciprocal rate
  await pa.goto(URL_A + "#/book", { waitUntil: "domcontentloaded" });
  await pa.waitForSelector("#b-product");
  await pa.$eval("#b-product", (e) => { e.value = "7208"; });
  await pa.click("#b-submit");
  const bookOk = await waitFor(pa, () => document.querySelectorAll("#book-lines tbody tr").length > 0, null, 10000);
  const book = bookOk ? await pa.evaluate(() => ({
    explanation: document.getElementById("book-explanation").textContent,
    base: document.getElementById("book-base").textContent,
    recip: [...document.querySelectorAll('#book-lines tr[data-measure-id="us-cn-reciprocal"]')].map((r) => [r.dataset.applies, r.textContent]),
  })) : {};
  check("the tariff book explains US <- CN 7208 as base + fentanyl + section 232, the reciprocal rate not stacking",
        bookOk && /^70% = 0% base \+ 50% us-232-steel-alu \+ 20% us-cn-fentanyl$/.test(book.explanation) &&
        /USITC HTS 2025/.test(book.base) && book.recip.length === 1 && book.recip[0][0] === "0" &&
        /does not stack with/.test(book.recip[0][1]),
        `${book.explanation}; ${book.base}; ${JSON.stringify(book.recip)}`);
  await shot(pa, "tariff-book");

  // -- the what-if preset shows the snap-back's movers
  await pa.goto(URL_A + "#/whatif", { waitUntil: "domcontentloaded" });
  await pa.waitForSelector('[data-preset-run="us-cn-pause-lapses"]');
  await pa.click('[data-preset-run="us-cn-pause-lapses"]');
  const wOk = await waitFor(pa, () => document.querySelectorAll("#whatif-snapback-table tbody tr").length > 0 ||
                                      document.getElementById("whatif-error"), null, 15000);
  const movers = wOk ? await pa.$$eval("#whatif-snapback-table tbody tr", (rs) => rs.map((r) => [r.dataset.ticker, Number(r.dataset.scoreBps)])) : [];
  const snapCount = wOk ? await pa.$eval("#whatif-snapback-count", (e) => Number(e.textContent)).catch(() => 0) : 0;
  const expected = replaySnapBack([E1, E2]);
  const expTop = [...expected.entries()].sort((x, y) => Math.abs(y[1]) - Math.abs(x[1])).slice(0, 10);
  const mismatch = movers.slice(0, 10).filter(([t, v], i) => !expected.has(t) || Math.abs(expected.get(t) - v) > 0.05 || (expTop[i] && expTop[i][0] !== t));
  check("the what-if preset 'The US-China pause lapses' shows the snap-back's movers, as the replay backtest",
        snapCount === 2 && movers.length >= 10 && mismatch.length === 0,
        `${snapCount} snap-backs; top ${movers.slice(0, 5).map(([t, v]) => `${t} ${v.toFixed(1)}`).join(", ")}; backtest ${expTop.slice(0, 5).map(([t, v]) => `${t} ${v.toFixed(1)}`).join(", ")}` +
        (mismatch.length ? `; mismatched ${JSON.stringify(mismatch)}` : ""));
  await pa.$eval("#whatif-result", (e) => e.scrollIntoView());
  await shot(pa, "whatif");
  await pa.click('[data-preset-run="eu-deal-fails-30"]');
  const eu = await waitFor(pa, () => document.querySelectorAll("#whatif-movers tbody tr").length > 0 && !document.getElementById("whatif-snapback"), null, 15000);
  check("the what-if preset 'The EU deal fails and 30% applies' scores", eu,
        eu ? (await pa.$$eval("#whatif-movers tbody tr", (rs) => rs.slice(0, 3).map((r) => `${r.dataset.ticker} ${Number(r.dataset.scoreBps).toFixed(1)}`))).join(", ") : "");

  // -- reload resumes with no gap and no repeat, then live
  const before = await pa.evaluate(() => window.__console.stats.lastSequence);
  await pa.goto(URL_A + "#/live", { waitUntil: "domcontentloaded" });
  await pa.reload({ waitUntil: "domcontentloaded" });
  const [r3] = publishLines("e3", [E3]);
  const last = Number(r3.lastSequence);
  const got = await waitFor(pa, (n) => window.__console && window.__console.stats.lastSequence >= n &&
                                        Math.max(0, ...[...document.querySelectorAll("#live-list tr[data-seq]")].map((r) => Number(r.dataset.seq))) >= n, last, 15000);
  const seqs = await pa.$$eval("#live-list tr[data-seq]", (rs) => rs.map((r) => Number(r.dataset.seq)));
  const st = await pa.evaluate(() => window.__console.stats);
  const from = st.startAfter + 1;
  const want = new Set();
  for (let s = from; s <= last; s++) want.add(s);
  const dup = seqs.length - new Set(seqs).size;
  const missing = [...want].filter((s) => !seqs.includes(s));
  const extra = seqs.filter((s) => !want.has(s));
  check("a reload shows recent history again, then live: every sequence exactly once",
        got && dup === 0 && missing.length === 0 && extra.length === 0 && st.duplicates === 0 && before >= lastTl,
        `after ${st.startAfter}: ${seqs.length} rows for sequences ${from}-${last}; repeats ${dup}, missing ${missing.length}` +
        `${missing.length ? " " + missing.slice(0, 10) : ""}, extra ${extra.length}, stream repeats ${st.duplicates}`);

  // -- the threat during the pause is shown inhibited: the alerts of it that
  // escalate (a contribution raises the rate; sector alerts and pure
  // spillovers carry no rate change), and no others
  const inhExpected = await pa.evaluate(async (id) => {
    const s = await (await fetch("/api/session")).json();
    const r = await (await fetch("/api/rpc/TariffEventService/GetEvent", { method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": s.csrf_token }, body: JSON.stringify({ event_id: id }) })).json();
    return r.alerts.filter((a) => (a.contributions || []).some((c) => c.delta_pct > 0)).map((a) => a.alert_id).sort();
  }, E3.event_id);
  const inh = await waitFor(pa, ([id, want]) => {
    const got = [...document.querySelectorAll(`#live-list tr[data-event-id="${id}"]`)]
      .filter((r) => r.dataset.state.includes("inhibited")).map((r) => r.dataset.alertId).sort();
    return got.length === want.length && got.every((x, i) => x === want[i]) &&
           document.querySelector('#inhibition-list [data-inhibition="us-cn-reciprocal"]');
  }, [E3.event_id, inhExpected], 5000);
  check("a THREATENED escalation of a paused measure is shown inhibited", inh && inhExpected.length > 0,
        `${inhExpected.length} of ${Number(r3.alertCount)} alerts escalate`);
  await pa.evaluate(() => window.scrollTo(0, 0));
  await shot(pa, "live-view");

  // -- the event view
  const evId = "2025-04-10-us-cn-145";
  await pa.goto(URL_A + "#/event/" + encodeURIComponent(evId), { waitUntil: "domcontentloaded" });
  const evOk = await waitFor(pa, () => document.querySelectorAll("#event-chart rect").length > 0 &&
    document.querySelectorAll("#event-rate-changes tbody tr").length > 0 && document.querySelectorAll("#event-sectors tbody tr").length > 0 &&
    document.querySelector("#event-measures table"), null, 10000);
  const evInfo = evOk ? await pa.evaluate(() => {
    const v = [...document.querySelectorAll("#event-chart rect")].map((r) => Number(r.dataset.score));
    return { bars: v.length, sorted: v.every((x, i) => i === 0 || v[i - 1] >= x), rc: document.querySelector("#event-rate-changes tbody tr").textContent };
  }) : null;
  check("the event view shows the rate change, the measures, the sorted winners and losers and the sector roll-up",
        evOk && evInfo.sorted, evInfo && `${evInfo.bars} bars; ${evInfo.rc}`);
  await shot(pa, "event-view");

  // -- the detail of an alert with several channels, for the screenshot
  const rich = await pa.evaluate(async (id) => {
    const s = await (await fetch("/api/session")).json();
    const r = await (await fetch("/api/rpc/TariffEventService/GetEvent", { method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": s.csrf_token }, body: JSON.stringify({ event_id: id }) })).json();
    const n = (a) => new Set((a.contributions || []).map((c) => c.channel)).size * 1000 + Math.abs(a.score_bps);
    return r.alerts.filter((a) => a.subject_kind === "SUBJECT_KIND_TICKER").sort((x, y) => n(y) - n(x))[0].alert_id;
  }, evId);
  await pa.goto(URL_A + "#/alert/" + encodeURIComponent(rich), { waitUntil: "domcontentloaded" });
  const richOk = await waitFor(pa, () => document.querySelectorAll("#contrib-table tbody tr").length > 1, null, 10000);
  const channels = richOk ? await pa.$$eval("#contrib-chart rect", (rs) => rs.filter((r) => Number(r.dataset.bps) !== 0).length) : 0;
  check("an alert of the timeline shows contributions of several channels", richOk && channels >= 2, `${rich}: ${channels} channels`);
  await shot(pa, "alert-detail");

  // -- health
  await pa.goto(URL_A + "#/health", { waitUntil: "domcontentloaded" });
  const hOk = await waitFor(pa, () => document.querySelectorAll('#health-replicas tbody tr[data-answering="1"]').length === 2 &&
                                      document.querySelector('#health-redis[data-ok="1"]'), null, 10000);
  check("health shows both replicas answering and Redis reachable", hOk,
        await pa.$$eval("#health-replicas tbody tr", (rs) => rs.map((r) => r.dataset.replicaId).join(", ")).catch(() => ""));
  await shot(pa, "health");

  // -- portfolio (not a required check, but its screenshot is in the docs)
  await pa.goto(URL_A + "#/portfolio", { waitUntil: "domcontentloaded" });
  await pa.$eval("#p-csv", (t) => { t.value = "ticker,value\nAAPL,3000000\nNVDA,2000000\nWMT,2000000\nNKE,1500000\nF,1500000\n"; });
  await pa.click("#p-save");
  await pa.click("#p-run");
  const pOk = await waitFor(pa, () => document.querySelectorAll("#portfolio-table tbody tr").length > 0, null, 10000);
  check("the portfolio view computes the impact of each logged event and the running total", pOk,
        pOk ? await pa.$eval("#portfolio-total", (e) => e.textContent) : "");
  await shot(pa, "portfolio");

  check("no page errors", pageErrors.length === 0, pageErrors.slice(0, 5).join(" | "));
} catch (e) {
  check("the test ran to its end", false, e.stack || String(e));
} finally {
  for (const b of [A, B]) if (b) await b.close().catch(() => {});
}
fs.writeFileSync(path.join(ARTIFACTS, "results.json"), JSON.stringify(results, null, 2));
console.log(failures ? `${failures} check(s) failed` : "all checks passed");
process.exit(failures ? 1 : 0);
