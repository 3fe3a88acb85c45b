// Recomputes, in the browser, the consumption page's headline figures from the ledger entries
// covered by the checkpoint ledger-verify.js has just verified, and fails loudly when the page
// shows something else.
//
// The leaves are fetched once: the browser keeps, per ledger origin, the right edge of the
// Merkle tree (the roots of its complete subtrees, RFC 9162) and the figures folded so far. On
// each visit it fetches only the leaves appended since, hashes them onto that edge, and checks
// that the root equals the signed checkpoint's: the figures are then folded from exactly the
// entries the provider signed. The fold mirrors confiance/consumption/figures.py (consumed
// minutes, minutes per day, budget days). Texts come from data-* attributes (no inline script).
(() => {
  "use strict";

  const holder = document.querySelector("[data-figures-check]");
  const shown = document.querySelector("[data-consumption-figures]");
  if (!holder || !shown) return;

  const STORAGE_PREFIX = "confiance-figures:";
  const PAGE = 5000;
  const ENTRY_KINDS = new Set(["time_entry", "time_entry.correction"]);
  const FACT_KINDS = new Set([
    ...ENTRY_KINDS,
    "budget.revised",
    "estimate.remaining",
    "parameter.set",
    "activity.created",
    "rate.set",
    "team.set",
  ]);
  const encoder = new TextEncoder();

  const fill = (template, values) =>
    template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));

  function failure(message) {
    const error = new Error(message);
    error.ledgerFailure = message;
    return error;
  }

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const toBase64 = (bytes) => btoa(String.fromCharCode(...bytes));
  const fromBase64 = (text) => Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
  const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

  // ---- the right edge of an RFC 9162 tree: [{hash, count}] with decreasing powers of two ----

  async function push(edge, leafData) {
    edge.push({ hash: await sha256(concat(Uint8Array.of(0), encoder.encode(leafData))), count: 1 });
    while (edge.length > 1 && edge[edge.length - 1].count === edge[edge.length - 2].count) {
      const right = edge.pop();
      const left = edge.pop();
      edge.push({
        hash: await sha256(concat(Uint8Array.of(1), left.hash, right.hash)),
        count: left.count * 2,
      });
    }
  }

  async function rootOf(edge) {
    if (edge.length === 0) return sha256(new Uint8Array(0));
    let root = edge[edge.length - 1].hash;
    for (let i = edge.length - 2; i >= 0; i -= 1) {
      root = await sha256(concat(Uint8Array.of(1), edge[i].hash, root));
    }
    return root;
  }

  // ---- the fold (figures.py) ------------------------------------------------------------

  // A field's value, or null when it is only a commitment this reader has no opening for.
  function value(leaf, name) {
    const v = leaf[name];
    if (v !== null && typeof v === "object") return "value" in v ? v.value : null;
    return v === undefined ? null : v;
  }

  // "12.5" -> 1250 hundredths, exactly (no floating point).
  function hundredths(text) {
    const match = /^(\d+)(?:\.(\d{1,2})\d*)?$/.exec(String(text));
    if (!match) return null;
    return Number(match[1]) * 100 + Number((match[2] || "").padEnd(2, "0"));
  }

  function fold(state, index, data) {
    const leaf = JSON.parse(data);
    if (!FACT_KINDS.has(leaf.kind)) return;
    state.lastFact = index;
    if (leaf.kind !== "parameter.set" && leaf.minutes_per_day != null) {
      state.minutesPerDay = Number(leaf.minutes_per_day);
    }
    if (ENTRY_KINDS.has(leaf.kind)) {
      state.consumed += Number(leaf.minutes);
    } else if (leaf.kind === "budget.revised") {
      const days = value(leaf, "days");
      state.budgetHundredths = days === null ? null : hundredths(days);
    } else if (leaf.kind === "parameter.set" && leaf.name === "minutes_per_day") {
      state.minutesPerDay = Number(value(leaf, "value"));
    }
  }

  function budgetMinutes(state) {
    if (state.budgetHundredths === null || state.minutesPerDay === null) return null;
    return Math.floor((state.budgetHundredths * state.minutesPerDay) / 100);
  }

  // ---- storage --------------------------------------------------------------------------

  function load(key) {
    try {
      const kept = JSON.parse(window.localStorage.getItem(key));
      if (!kept || !Number.isSafeInteger(kept.size) || !Array.isArray(kept.edge)) return null;
      kept.edge = kept.edge.map((e) => ({ hash: fromBase64(e.hash), count: e.count }));
      return kept;
    } catch (error) {
      return null;
    }
  }

  function save(key, state, edge) {
    try {
      const edgeOut = edge.map((e) => ({ hash: toBase64(e.hash), count: e.count }));
      window.localStorage.setItem(key, JSON.stringify({ ...state, edge: edgeOut }));
    } catch (error) {
      // Without storage the next visit fetches every leaf again: slower, not less safe.
    }
  }

  async function leaves(start, end, progress) {
    const out = [];
    for (let from = start; from < end; from += PAGE) {
      const url = new URL(holder.dataset.leavesUrl, window.location.href);
      url.searchParams.set("start", from);
      url.searchParams.set("end", Math.min(end, from + PAGE));
      const response = await fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const answer = await response.json();
      out.push(...answer.entries);
      progress(Math.min(end, from + PAGE) - start, end - start);
    }
    return out;
  }

  // ---- the check, run by ledger-verify.js on the checkpoint it verified -------------------

  async function check({ size, root, origin, detail }) {
    if ("auditFailed" in holder.dataset) throw failure(holder.dataset.msgAudit);
    const key = STORAGE_PREFIX + origin;
    let kept = load(key);
    if (kept && kept.size > size) kept = null; // a shorter log is ledger-verify.js's to report
    const state = kept
      ? {
          size: kept.size,
          consumed: kept.consumed,
          minutesPerDay: kept.minutesPerDay,
          budgetHundredths: kept.budgetHundredths,
          lastFact: kept.lastFact,
        }
      : { size: 0, consumed: 0, minutesPerDay: null, budgetHundredths: null, lastFact: null };
    const edge = kept ? kept.edge : [];
    // The edge kept must be the tree ledger-verify.js has just proved a prefix of this one.
    const rows = await leaves(state.size, size, (done, total) => {
      if (total > PAGE) detail(fill(holder.dataset.msgProgress, { done, total }), true);
    });
    if (rows.length !== size - state.size) throw failure(holder.dataset.msgLeaves);
    for (const [index, data] of rows) {
      if (index !== state.size) throw failure(holder.dataset.msgLeaves);
      await push(edge, data);
      fold(state, index, data);
      state.size += 1;
    }
    if (!same(await rootOf(edge), root)) throw failure(holder.dataset.msgLeaves);
    save(key, state, edge);

    const pageSize = Number(shown.dataset.size);
    // Facts appended after the page was computed, or a page ahead of the signed checkpoint:
    // the two describe different moments, so they are not compared (a reload compares them).
    if (pageSize > size || (state.lastFact !== null && state.lastFact >= pageSize)) {
      return holder.dataset.msgPending;
    }
    const computed = { consumed: state.consumed, budget: budgetMinutes(state) };
    const page = {
      consumed: Number(shown.dataset.consumedMinutes),
      budget: shown.dataset.budgetMinutes === "" ? null : Number(shown.dataset.budgetMinutes),
    };
    const expectedSize = state.lastFact === null ? 0 : state.lastFact + 1;
    if (
      computed.consumed !== page.consumed ||
      computed.budget !== page.budget ||
      expectedSize !== pageSize
    ) {
      throw failure(
        fill(holder.dataset.msgMismatch, {
          shown: `${page.consumed} / ${page.budget ?? "—"} (${pageSize})`,
          computed: `${computed.consumed} / ${computed.budget ?? "—"} (${expectedSize})`,
        }),
      );
    }
    return fill(holder.dataset.msgChecked, {
      consumed: computed.consumed,
      budget: computed.budget ?? "—",
    });
  }

  window.confianceLedgerChecks = window.confianceLedgerChecks || [];
  window.confianceLedgerChecks.push(check);
})();
