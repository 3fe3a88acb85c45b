// Checks, in the browser, that the engagement's ledger only grew since the last visit.
//
// The browser keeps in localStorage, per ledger origin, the last checkpoint it verified. On
// each visit it fetches the latest signed checkpoint, checks its Ed25519 signature (C2SP
// signed note) with WebCrypto, asks the server for an RFC 9162 consistency proof from the kept
// size to the new one, and checks that proof itself with WebCrypto's SHA-256. Only a checkpoint
// that passes is kept; after a failure the old one stays, so the failure shows on every visit.
// Texts and URLs come from the partial's data-* attributes (translated there; no inline script).
(() => {
  "use strict";

  const STORAGE_PREFIX = "confiance-ledger:";
  const encoder = new TextEncoder();

  class LedgerFailure extends Error {}

  // ---- bytes ------------------------------------------------------------------------------

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; i += 1) diff |= a[i] ^ b[i];
    return diff === 0;
  }

  function fromBase64(text) {
    if (typeof text !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4) {
      throw new LedgerFailure("malformed");
    }
    const binary = atob(text);
    return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  }

  function toBase64(bytes) {
    return btoa(String.fromCharCode(...bytes));
  }

  function toHex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  // RFC 9162: interior node = SHA-256(0x01 || left || right).
  function nodeHash(left, right) {
    return sha256(concat(Uint8Array.of(1), left, right));
  }

  // ---- RFC 9162 section 2.1.4.2: verifying a consistency proof ---------------------------
  // Sizes stay below 2^53, so halving uses arithmetic: JavaScript's bit operators are 32-bit.

  const isOdd = (n) => n % 2 === 1;
  const half = (n) => Math.floor(n / 2);
  const isPowerOfTwo = (n) => {
    while (n > 1 && !isOdd(n)) n = half(n);
    return n === 1;
  };

  async function verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof) {
    if (!(Number.isSafeInteger(oldSize) && Number.isSafeInteger(newSize))) return false;
    if (oldSize < 0 || oldSize > newSize) return false;
    if (oldRoot.length !== 32 || newRoot.length !== 32) return false;
    if (proof.some((p) => p.length !== 32)) return false;
    if (oldSize === newSize) return proof.length === 0 && equal(oldRoot, newRoot);
    if (oldSize === 0) {
      // Every tree extends the empty one, whose root is SHA-256 of nothing.
      return proof.length === 0 && equal(oldRoot, await sha256(new Uint8Array(0)));
    }
    if (proof.length === 0) return false;
    // 1. If the old size is a power of two, the old root is the first element of the path.
    const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof];
    // 2-4.
    let fn = oldSize - 1;
    let sn = newSize - 1;
    while (isOdd(fn)) {
      fn = half(fn);
      sn = half(sn);
    }
    // 5.
    let fr = path[0];
    let sr = path[0];
    // 6.
    for (const c of path.slice(1)) {
      if (sn === 0) return false;
      if (isOdd(fn) || fn === sn) {
        fr = await nodeHash(c, fr);
        sr = await nodeHash(c, sr);
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      } else {
        sr = await nodeHash(sr, c);
      }
      fn = half(fn);
      sn = half(sn);
    }
    // 7.
    return equal(fr, oldRoot) && equal(sr, newRoot) && sn === 0;
  }

  // ---- C2SP signed note and tlog-checkpoint ---------------------------------------------

  // A vkey: <name>+<hex key ID>+<base64(0x01 || Ed25519 public key)>.
  async function parseVerifierKey(vkey) {
    const parts = typeof vkey === "string" ? vkey.split("+") : [];
    if (parts.length < 3) throw new LedgerFailure("malformed");
    const [name, idHex] = parts;
    const raw = fromBase64(parts.slice(2).join("+"));
    if (!/^[0-9a-f]{8}$/i.test(idHex) || raw.length !== 33 || raw[0] !== 1) {
      throw new LedgerFailure("malformed");
    }
    const publicKey = raw.slice(1);
    // Key ID = SHA-256(name || "\n" || 0x01 || public key)[:4].
    const id = (await sha256(concat(encoder.encode(name + "\n"), raw))).slice(0, 4);
    if (toHex(id) !== idHex.toLowerCase()) throw new LedgerFailure("malformed");
    return { name, keyId: id, publicKey };
  }

  function parseNote(note) {
    if (typeof note !== "string") throw new LedgerFailure("malformed");
    const split = note.lastIndexOf("\n\n");
    if (split < 0 || !note.endsWith("\n")) throw new LedgerFailure("malformed");
    const text = note.slice(0, split + 1);
    const signatures = note
      .slice(split + 2, -1)
      .split("\n")
      .map((line) => {
        const match = /^\u2014 (\S+) (\S+)$/.exec(line);
        if (!match) throw new LedgerFailure("malformed");
        const raw = fromBase64(match[2]);
        if (raw.length < 5) throw new LedgerFailure("malformed");
        return { name: match[1], keyId: raw.slice(0, 4), signature: raw.slice(4) };
      });
    const lines = text.slice(0, -1).split("\n");
    if (lines.length < 3 || !/^(0|[1-9][0-9]*)$/.test(lines[1])) {
      throw new LedgerFailure("malformed");
    }
    const size = Number(lines[1]);
    const root = fromBase64(lines[2]);
    if (!Number.isSafeInteger(size) || root.length !== 32) throw new LedgerFailure("malformed");
    return { text, origin: lines[0], size, root, signatures };
  }

  // "ok", or "unsupported" when this browser's WebCrypto has no Ed25519; throws if invalid.
  async function verifySignature(note, key) {
    const ours = note.signatures.filter((s) => s.name === key.name && equal(s.keyId, key.keyId));
    if (ours.length === 0) throw new LedgerFailure("signature");
    let publicKey;
    try {
      publicKey = await crypto.subtle.importKey("raw", key.publicKey, { name: "Ed25519" }, false, [
        "verify",
      ]);
    } catch (error) {
      return "unsupported";
    }
    for (const s of ours) {
      const valid = await crypto.subtle.verify(
        { name: "Ed25519" },
        publicKey,
        s.signature,
        encoder.encode(note.text),
      );
      if (!valid) throw new LedgerFailure("signature");
    }
    return "ok";
  }

  // ---- storage and network ----------------------------------------------------------------

  function load(key) {
    try {
      const value = JSON.parse(window.localStorage.getItem(key));
      return value && typeof value === "object" ? value : null;
    } catch (error) {
      return null;
    }
  }

  function save(key, value) {
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
      return true;
    } catch (error) {
      return false;
    }
  }

  async function getJSON(url) {
    const response = await fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.json();
  }

  // ---- the page ---------------------------------------------------------------------------

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (whole, name) =>
      name in values ? String(values[name]) : whole,
    );
  }

  function setup(section) {
    const texts = section.dataset;
    const lang = document.documentElement.lang || undefined;
    const status = section.querySelector("[data-ledger-status]");
    const details = section.querySelector("[data-ledger-details]");
    const plural = (n) => {
      try {
        return new Intl.PluralRules(lang).select(n) === "one" ? "one" : "other";
      } catch (error) {
        return n === 1 ? "one" : "other";
      }
    };
    const counted = (name, count, values = {}) =>
      fill(texts[`${name}${plural(count) === "one" ? "One" : "Other"}`], { count, ...values });
    const when = (iso) => {
      const date = new Date(iso);
      if (Number.isNaN(date.getTime())) return "?";
      return date.toLocaleString(lang, { dateStyle: "long", timeStyle: "short" });
    };

    function show(state, message) {
      section.dataset.state = state;
      status.textContent = message;
    }

    function detail(message) {
      const item = document.createElement("li");
      item.textContent = message;
      details.append(item);
    }

    // The failure is put at the top of the page, as an alert, and never taken away.
    function fail(reason) {
      section.dataset.state = "failed";
      const alert = document.createElement("div");
      alert.className = "ledger-alert";
      alert.setAttribute("role", "alert");
      alert.dataset.ledgerAlert = "";
      const title = document.createElement("h2");
      title.textContent = texts.msgFailedTitle;
      const body = document.createElement("p");
      body.textContent = fill(texts.msgFailed, { reason });
      alert.append(title, body);
      const main = document.getElementById("main") || section.parentElement;
      main.prepend(alert);
      status.textContent = body.textContent;
    }

    return { texts, show, detail, fail, counted, when };
  }

  async function check(section) {
    const ui = setup(section);
    const { texts } = ui;
    if (!window.crypto || !window.crypto.subtle) {
      ui.show("error", texts.msgNoCrypto);
      return;
    }
    let latest;
    try {
      latest = await getJSON(section.dataset.checkpointUrl);
    } catch (error) {
      ui.show("error", fill(texts.msgUnavailable, { reason: error.message }));
      return;
    }

    let note;
    let key;
    let signature;
    try {
      note = parseNote(latest.note);
      key = await parseVerifierKey(latest.public_key);
      // The figures shown come from the signed text; the JSON around it must agree.
      if (
        note.origin !== latest.origin ||
        note.size !== latest.size ||
        toHex(note.root) !== latest.root
      ) {
        throw new LedgerFailure("malformed");
      }
      signature = await verifySignature(note, key);
    } catch (error) {
      if (!(error instanceof LedgerFailure)) throw error;
      ui.fail(error.message === "signature" ? texts.msgReasonSignature : texts.msgReasonMalformed);
      return;
    }

    const storageKey = STORAGE_PREFIX + note.origin;
    const kept = load(storageKey);
    const now = new Date().toISOString();
    const record = {
      origin: note.origin,
      size: note.size,
      root: toBase64(note.root),
      public_key: latest.public_key,
      note: latest.note,
      verified_at: now,
    };
    const facts = () => {
      ui.detail(fill(texts.msgDetail, { count: note.size, root: toHex(note.root).slice(0, 16) }));
      ui.detail(
        signature === "ok" ? fill(texts.msgSignatureOk, { key: key.name }) : texts.msgNoEd25519,
      );
    };

    if (!kept || !Number.isSafeInteger(kept.size) || typeof kept.root !== "string") {
      ui.show("first", ui.counted("msgFirst", note.size));
      facts();
      if (!save(storageKey, record)) ui.detail(texts.msgNoStorage);
      return;
    }

    const previous = { previous: kept.size, date: ui.when(kept.verified_at) };
    if (kept.public_key !== latest.public_key) {
      ui.fail(texts.msgReasonKey);
      return;
    }
    if (note.size < kept.size) {
      ui.fail(fill(texts.msgReasonShrunk, { count: note.size, ...previous }));
      return;
    }
    let proof = [];
    if (note.size !== kept.size) {
      try {
        const url = new URL(section.dataset.consistencyUrl, window.location.href);
        url.searchParams.set("old", kept.size);
        url.searchParams.set("new", note.size);
        const answer = await getJSON(url);
        proof = answer.proof.map(fromBase64);
      } catch (error) {
        ui.show("error", fill(texts.msgUnavailable, { reason: error.message }));
        return;
      }
    }
    let consistent;
    try {
      consistent = await verifyConsistency(
        kept.size,
        note.size,
        fromBase64(kept.root),
        note.root,
        proof,
      );
    } catch (error) {
      consistent = false;
    }
    if (!consistent) {
      ui.fail(fill(texts.msgReasonRewritten, previous));
      return;
    }
    ui.show("verified", ui.counted("msgVerified", note.size, { date: previous.date }));
    facts();
    save(storageKey, record);
  }

  // The verifier itself, exposed so tests can run it on the server's proofs.
  window.confianceLedger = Object.freeze({ verifyConsistency });

  document.addEventListener("DOMContentLoaded", () => {
    for (const section of document.querySelectorAll("[data-ledger-verify]")) {
      check(section).catch((error) => {
        section.dataset.state = "error";
        const status = section.querySelector("[data-ledger-status]");
        status.textContent = section.dataset.msgUnavailable.replace("{reason}", String(error));
      });
    }
  });
})();
