// The terminal console test's web half: a real web console page (Debian's
// chromium, headless, driven by puppeteer-core as tests/console does it)
// logs in with the analyst's token and waits until the alert the terminal
// console acknowledged shows as acknowledged. Started by
// terminal_console_test.py, which passes everything in the environment:
//
//   TA_NODE_DIR     where tests/console/install-node-deps.sh put puppeteer-core
//   TA_URL          the tariff-console gateway (http://127.0.0.1:PORT/)
//   TA_TOKEN_FILE   the analyst's token (read here, never printed)
//   TA_ALERT_ID     the alert acknowledged in the terminal
//   TA_ACTOR        who acknowledged it (the token's name)
//   TA_ARTIFACTS    where the screenshot goes
//   TA_WORK         a scratch directory (the browser's profile)
//   TA_WAIT_MS      how long to wait for the acknowledged row (default 10000)
//
// Exit status 0 when the page shows it, 1 otherwise (with the reason on
// stdout). Every wait is bounded; the browser is closed at the end.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set (run terminal_console_test.py)`);
  return v;
};
const require = createRequire(path.join(env("TA_NODE_DIR"), "node_modules", "x.js"));
const puppeteer = require("puppeteer-core");

const URL = env("TA_URL");
const ALERT_ID = env("TA_ALERT_ID");
const ACTOR = env("TA_ACTOR");
const ARTIFACTS = env("TA_ARTIFACTS");
const WORK = env("TA_WORK");
const WAIT_MS = Number(process.env.TA_WAIT_MS || 10000);
const TOKEN = fs.readFileSync(env("TA_TOKEN_FILE"), "utf8").trim();
const SHOT = path.join(ARTIFACTS, "web-console-ack.png");

// As tests/console/console_browser_test.mjs.
const LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1600,1000"];

const pageErrors = [];
let browser;
let failure = "";
function redact(s) { return String(s).split(TOKEN).join("<token>"); }

try {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  browser = await puppeteer.launch({
    executablePath: "/usr/bin/chromium", headless: true, args: LAUNCH_ARGS,
    userDataDir: fs.mkdtempSync(path.join(WORK, "chromium-")),
    defaultViewport: { width: 1600, height: 1000 }, protocolTimeout: 30000, timeout: 30000 });
  const page = await browser.newPage();
  page.setDefaultTimeout(10000);
  page.on("pageerror", (e) => pageErrors.push(e.message));
  // The page's session check before the login answers 401: not an error.
  page.on("console", (m) => {
    if (m.type() === "error" && !/Failed to load resource: the server responded with a status of 401/.test(m.text())) {
      pageErrors.push(m.text());
    }
  });

  // Log in as the browser test does: the token in the login form.
  await page.goto(URL + "#/login", { waitUntil: "domcontentloaded" });
  await page.waitForSelector("#login-token", { visible: true });
  await page.type("#login-token", TOKEN);
  await page.click("#login-submit");
  try {
    await page.waitForFunction(
      () => location.hash === "#/live" && !document.getElementById("view-live").classList.contains("hidden") &&
            document.getElementById("stream-status").dataset.state === "live" &&
            document.getElementById("state-status").dataset.state === "live",
      { timeout: 10000, polling: 50 });
  } catch {
    const where = await page.evaluate(() => ({
      hash: location.hash, error: (document.getElementById("login-error") || {}).textContent || "",
      stream: (document.getElementById("stream-status") || { dataset: {} }).dataset.state,
      state: (document.getElementById("state-status") || { dataset: {} }).dataset.state })).catch(() => ({}));
    throw new Error(`the web console did not go live after the login within 10 s: ${JSON.stringify(where)}`);
  }
  console.log(`web console live as ${await page.$eval("#whoami", (e) => e.textContent.trim()).catch(() => "?")}`);

  // The row of the alert (data-alert-id), acknowledged (data-state starts
  // with "acknowledged", the ACK badge names who did it).
  const t0 = Date.now();
  let shown = false;
  try {
    await page.waitForFunction(([id, actor]) => {
      const r = [...document.querySelectorAll("#live-list tr[data-alert-id]")].find((x) => x.dataset.alertId === id);
      if (!r || !(r.dataset.state || "").startsWith("acknowledged")) return false;
      const badge = r.querySelector(".badge.ack");
      return !!badge && (badge.getAttribute("title") || "").startsWith(`by ${actor} `);
    }, { timeout: WAIT_MS, polling: 100 }, [ALERT_ID, ACTOR]);
    shown = true;
  } catch { /* reported below */ }
  const row = await page.evaluate((id) => {
    const r = [...document.querySelectorAll("#live-list tr[data-alert-id]")].find((x) => x.dataset.alertId === id);
    if (!r) return null;
    r.scrollIntoView({ block: "center" });
    r.style.outline = "3px solid #d90";
    const badge = r.querySelector(".badge.ack");
    return { seq: r.dataset.seq, state: r.dataset.state, badge: badge ? badge.textContent : "",
             title: badge ? badge.getAttribute("title") : "" };
  }, ALERT_ID);
  await page.screenshot({ path: SHOT, fullPage: false });
  console.log(`screenshot ${SHOT}`);
  if (shown) {
    console.log(`PASS ${ALERT_ID} shows as acknowledged in the web console ${Date.now() - t0} ms after the login ` +
                `(seq ${row.seq}, data-state "${row.state}", badge ${row.badge} "${row.title}")`);
  } else {
    const summary = await page.$eval("#live-summary", (e) => e.textContent).catch(() => "");
    failure = row
      ? `the row of ${ALERT_ID} is not shown as acknowledged by ${ACTOR} after ${WAIT_MS} ms: ` +
        `data-state "${row.state}", badge "${row.badge}" "${row.title}"`
      : `no row with data-alert-id="${ALERT_ID}" in the live view after ${WAIT_MS} ms (${summary})`;
  }
} catch (e) {
  failure = e.stack || String(e);
} finally {
  if (browser) await browser.close().catch(() => {});
}
if (pageErrors.length) console.log(`page errors: ${redact(pageErrors.slice(0, 5).join(" | "))}`);
if (failure) {
  console.log(`FAIL ${redact(failure)}`);
  process.exit(1);
}
process.exit(0);
