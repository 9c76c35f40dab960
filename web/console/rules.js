// The risk console's rules, as the page applies them: the twin of
// server/console/console_rules.h (silence matching, the acknowledgement and
// inhibition marks, grouping). Pure functions over the JSON the gateway sends
// (protobuf's JSON mapping: proto field names, enums as names, 64-bit
// integers as strings); no DOM, no network.

export const SEVERITIES = ["INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"];

// "SEVERITY_HIGH" or "HIGH" (any case) -> 4; 0 when unknown.
export function severityRank(name) {
  if (typeof name === "number") return name;
  const s = String(name || "").toUpperCase().replace(/^SEVERITY_/, "");
  const i = SEVERITIES.indexOf(s);
  return i < 0 ? 0 : i + 1;
}

// "SEVERITY_HIGH" -> "HIGH".
export function severityShortName(name) {
  const r = severityRank(name);
  return r ? SEVERITIES[r - 1] : "UNSPECIFIED";
}

// 64-bit integers come as strings; sequences stay far below 2^53.
export function num(v) {
  if (v === undefined || v === null || v === "") return 0;
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

// RFC 3339 (with up to 9 fractional digits) -> ms since the epoch; NaN when unset.
export function timeMs(t) {
  if (!t) return NaN;
  if (typeof t === "number") return t;
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(String(t));
  if (!m) return Date.parse(t);
  const frac = m[2] ? m[2].slice(0, 4).padEnd(4, "0") : "";
  return Date.parse(m[1] + frac + m[3]);
}

export function isTicker(alert) {
  return alert.subject_kind === "SUBJECT_KIND_TICKER" || alert.subject_kind === 1;
}
export function isSector(alert) {
  return alert.subject_kind === "SUBJECT_KIND_SECTOR" || alert.subject_kind === 2;
}

// Some contribution's rate change raises the rate.
export function isEscalation(alert) {
  return (alert.contributions || []).some((c) => num(c.delta_pct) > 0);
}

function eqi(a, b) {
  return String(a || "").toUpperCase() === String(b || "").toUpperCase();
}

// The countries an alert involves: the company's, the imposing one and the
// targets; null when the event is on all partners (it involves every country).
export function alertCountries(alert) {
  const targets = alert.target_countries || [];
  if (targets.length === 0) return null;
  const out = [...targets, alert.imposing_country];
  if (alert.country) out.push(alert.country);
  return out.filter(Boolean);
}

const EU_MEMBERS = new Set("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split(" "));
const isEuMember = (c) => EU_MEMBERS.has(c);
// wanted == c, or one is "EU" and the other a member (server/common/country.cc Covers).
function covers(wanted, c) {
  if (!c) return false;
  return wanted === c || (wanted === "EU" && isEuMember(c)) || (c === "EU" && isEuMember(wanted));
}
function sameBloc(a, b) {
  if (a === b) return true;
  return (a === "EU" || isEuMember(a)) && (b === "EU" || isEuMember(b));
}

// Does the alert involve this country (alpha-2 or "EU"), as AlertFilter.countries:
// the imposing country, the company's, a target, or any country but the
// importer's own bloc when the event is on all partners.
export function involvesCountry(alert, country) {
  const wanted = String(country || "").toUpperCase();
  if (!/^[A-Z]{2}$/.test(wanted)) return false;
  const importer = String(alert.imposing_country || "").toUpperCase();
  const company = String(alert.country || "").toUpperCase();
  if (covers(wanted, importer) || covers(wanted, company)) return true;
  const targets = (alert.target_countries || []).map((t) => String(t).toUpperCase());
  if (targets.length === 0 && !sameBloc(wanted, importer)) return true;
  return targets.some((t) => covers(wanted, t));
}

export function matcherMatches(m, alert) {
  const v = m.value || "";
  switch (m.field) {
    case "MATCHER_FIELD_TICKER":
    case 1:
      return isTicker(alert) && eqi(alert.subject, v);
    case "MATCHER_FIELD_SECTOR":
    case 2:
      return (alert.sector || "") === v;
    case "MATCHER_FIELD_COUNTRY":
    case 3:
      return involvesCountry(alert, v);
    case "MATCHER_FIELD_EVENT":
    case 4:
      return alert.event_id === v;
    case "MATCHER_FIELD_SEVERITY":
    case 5: {
      const r = severityRank(v);
      return r > 0 && severityRank(alert.severity) <= r;
    }
    case "MATCHER_FIELD_MEASURE":
    case 6:
      return (alert.measure_id || "") === v;
    default:
      return false;
  }
}

// start_time <= now < end_time (an unset start: since always).
export function silenceActive(silence, nowMs) {
  const start = timeMs(silence.start_time);
  const end = timeMs(silence.end_time);
  if (!Number.isNaN(start) && nowMs < start) return false;
  return !Number.isNaN(end) && nowMs < end;
}

// Every matcher matches (a silence has at least one).
export function silenceMatches(silence, alert) {
  const ms = silence.matchers || [];
  return ms.length > 0 && ms.every((m) => matcherMatches(m, alert));
}

export function silenceState(silence, nowMs) {
  const start = timeMs(silence.start_time);
  const end = timeMs(silence.end_time);
  if (!Number.isNaN(end) && nowMs >= end) return "expired";
  if (!Number.isNaN(start) && nowMs < start) return "pending";
  return "active";
}

// The alert's measure is in the inhibitions' list, its stage is THREATENED and
// it raises the rate.
export function inhibitedBy(alert, inhibitions) {
  if (!(alert.stage === "STAGE_THREATENED" || alert.stage === 1)) return null;
  if (!isEscalation(alert)) return null;
  return (inhibitions || []).find((i) => i.measure_id && i.measure_id === alert.measure_id) || null;
}

// The console state the page folds audit records into (StateView in C++).
export class StateView {
  constructor() {
    this.reset({ audit_sequence: "0", acknowledgements: [], silences: [], inhibitions: [] });
  }

  reset(state) {
    this.auditSequence = num(state.audit_sequence);
    this.acks = new Map();  // "a:<alert_id>" or "e:<event_id>" -> Acknowledgement
    for (const a of state.acknowledgements || []) this.acks.set(ackKey(a), a);
    this.silences = new Map();  // id -> Silence
    for (const s of state.silences || []) this.silences.set(s.id, s);
    this.inhibitions = state.inhibitions || [];
    this.serverTime = state.server_time || null;
  }

  // Applies the next record; false (and no change) for a gap or a repeat.
  apply(record) {
    const seq = num(record.sequence);
    if (seq !== this.auditSequence + 1) return false;
    switch (record.action) {
      case "AUDIT_ACTION_ACKNOWLEDGED":
        if (record.acknowledgement) this.acks.set(ackKey(record.acknowledgement), record.acknowledgement);
        break;
      case "AUDIT_ACTION_ACKNOWLEDGEMENT_DELETED":
        if (record.acknowledgement) this.acks.delete(ackKey(record.acknowledgement));
        break;
      case "AUDIT_ACTION_SILENCE_CREATED":
      case "AUDIT_ACTION_SILENCE_EXPIRED":
        if (record.silence && record.silence.id) this.silences.set(record.silence.id, record.silence);
        break;
      default:
        break;
    }
    this.auditSequence = seq;
    return true;
  }

  setInhibitions(list) {
    this.inhibitions = list || [];
  }

  // The alert's own acknowledgement, else its event's; null when neither.
  acknowledgementOf(alert) {
    return this.acks.get("a:" + alert.alert_id) || this.acks.get("e:" + alert.event_id) || null;
  }
  eventAcknowledgement(eventId) {
    return this.acks.get("e:" + eventId) || null;
  }

  // The first active silence that matches (by id order), or null.
  silencedBy(alert, nowMs) {
    for (const s of this.silences.values()) {
      if (silenceActive(s, nowMs) && silenceMatches(s, alert)) return s;
    }
    return null;
  }

  mark(alert, nowMs) {
    const inh = inhibitedBy(alert, this.inhibitions);
    const sil = this.silencedBy(alert, nowMs);
    return {
      acknowledgement: this.acknowledgementOf(alert),
      silencedBy: sil ? sil.id : "",
      inhibitedBy: inh ? inh.rule || inh.measure_id : "",
      inhibition: inh,
    };
  }

  // Silences by end time, newest last; ended ones after the live ones.
  silenceList(nowMs) {
    return [...this.silences.values()].sort((a, b) => {
      const ea = silenceState(a, nowMs) === "expired" ? 1 : 0;
      const eb = silenceState(b, nowMs) === "expired" ? 1 : 0;
      if (ea !== eb) return ea - eb;
      return timeMs(b.create_time) - timeMs(a.create_time) || String(a.id).localeCompare(String(b.id));
    });
  }
}

function ackKey(a) {
  return a.alert_id ? "a:" + a.alert_id : "e:" + a.event_id;
}

export const SECTOR_GROUP = "(sectors)";

// Alerts grouped for display: events newest first (by their newest
// sequence); within an event, ticker alerts by sector, sectors by the sum of
// |score_bps| (largest first), alerts by |score_bps| (largest first); the
// event's sector alerts are a group of their own, "(sectors)", after the rest.
export function groupAlerts(alerts) {
  const events = new Map();
  for (const a of alerts) {
    let e = events.get(a.event_id);
    if (!e) {
      e = { event_id: a.event_id, headline: a.headline || "", newest_sequence: 0, alert_count: 0,
            sectorMap: new Map(), first: a };
      events.set(a.event_id, e);
    }
    const seq = num(a.sequence);
    if (seq >= e.newest_sequence) {
      e.newest_sequence = seq;
      if (a.headline) e.headline = a.headline;
    }
    e.alert_count++;
    const key = isSector(a) ? SECTOR_GROUP : a.sector || "(no sector)";
    let g = e.sectorMap.get(key);
    if (!g) {
      g = { sector: key, abs_score_bps: 0, alerts: [] };
      e.sectorMap.set(key, g);
    }
    g.abs_score_bps += Math.abs(num(a.score_bps));
    g.alerts.push(a);
  }
  const byScore = (x, y) =>
    Math.abs(num(y.score_bps)) - Math.abs(num(x.score_bps)) || num(x.sequence) - num(y.sequence);
  const out = [];
  for (const e of events.values()) {
    const sectors = [...e.sectorMap.values()];
    for (const g of sectors) g.alerts.sort(byScore);
    sectors.sort((x, y) => {
      const sx = x.sector === SECTOR_GROUP ? 1 : 0;
      const sy = y.sector === SECTOR_GROUP ? 1 : 0;
      if (sx !== sy) return sx - sy;
      return y.abs_score_bps - x.abs_score_bps || x.sector.localeCompare(y.sector);
    });
    out.push({ event_id: e.event_id, headline: e.headline, newest_sequence: e.newest_sequence,
               alert_count: e.alert_count, sectors, first: e.first });
  }
  out.sort((x, y) => y.newest_sequence - x.newest_sequence);
  return out;
}

// "<event_id>/<T|S>/<subject>" -> {event_id, kind, subject}; event ids may hold '/'.
export function parseAlertId(id) {
  const m = /^(.*)\/([TS])\/([^/]*)$/.exec(id || "");
  return m ? { event_id: m[1], kind: m[2], subject: m[3] } : null;
}

// Holdings CSV: "ticker,value" lines, an optional header, '#' comments.
// Returns {holdings: [{ticker, position_value}], errors: [..]}.
export function parseHoldingsCsv(text) {
  const holdings = [];
  const errors = [];
  const seen = new Set();
  String(text || "").split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const parts = line.split(/[,;\t]/).map((p) => p.trim().replace(/^"|"$/g, ""));
    if (parts.length < 2) {
      errors.push(`line ${i + 1}: expected ticker,value`);
      return;
    }
    const value = Number(parts[1].replace(/[$_\s]/g, "").replace(/,/g, ""));
    if (!Number.isFinite(value)) {
      if (holdings.length === 0 && /^[a-z_ ]+$/i.test(parts[1])) return;  // a header
      errors.push(`line ${i + 1}: '${parts[1]}' is not a number`);
      return;
    }
    const ticker = parts[0].toUpperCase();
    if (!ticker || value === 0) {
      errors.push(`line ${i + 1}: a ticker and a nonzero value are needed`);
      return;
    }
    if (seen.has(ticker)) {
      errors.push(`line ${i + 1}: ${ticker} repeats`);
      return;
    }
    seen.add(ticker);
    holdings.push({ ticker, position_value: value });
  });
  return { holdings, errors };
}
