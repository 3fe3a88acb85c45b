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

  // A vkey: <name>+<hex key ID>+<base64(type || Ed25519 public key)>; type 0x01 signs notes,
  // 0x04 is a witness's cosignature key (C2SP tlog-cosignature).
  async function parseVerifierKey(vkey, type = 1) {
    const parts = typeof vkey === "string" ? vkey.split("+") : [];
    if (parts.length < 3) throw new LedgerFailure("malformed");
    const [name, idHex] = parts;
    const raw = fromBase64(parts.slice(2).join("+"));
    if (!/^[0-9a-f]{8}$/i.test(idHex) || raw.length !== 33 || raw[0] !== type) {
      throw new LedgerFailure("malformed");
    }
    const publicKey = raw.slice(1);
    // Key ID = SHA-256(name || "\n" || 0x01 || public key)[:4].
    const id = (await sha256(concat(encoder.encode(`${name}\n`), raw))).slice(0, 4);
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
    const publicKey = await importEd25519(key.publicKey);
    if (!publicKey) return "unsupported";
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

  async function importEd25519(publicKey) {
    try {
      return await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, [
        "verify",
      ]);
    } catch (error) {
      return null;
    }
  }

  // The timestamp of the witness's valid cosignature on the note, null if absent,
  // "unsupported" without Ed25519 in this browser; throws if a line by that key is forged.
  async function verifyCosignature(note, witness) {
    const ours = note.signatures.filter(
      (s) => s.name === witness.name && equal(s.keyId, witness.keyId),
    );
    if (ours.length === 0) return null;
    const publicKey = await importEd25519(witness.publicKey);
    if (!publicKey) return "unsupported";
    let found = null;
    for (const s of ours) {
      if (s.signature.length !== 72) throw new LedgerFailure("cosignature");
      let time = 0;
      for (const byte of s.signature.slice(0, 8)) time = time * 256 + byte;
      const message = encoder.encode(`cosignature/v1\ntime ${time}\n${note.text}`);
      const valid = await crypto.subtle.verify(
        { name: "Ed25519" },
        publicKey,
        s.signature.slice(8),
        message,
      );
      if (!valid) throw new LedgerFailure("cosignature");
      found = Math.max(found || 0, time);
    }
    return found;
  }

  // ---- leaves: sealed fields and their openings (docs/ledger.md) ---------------------------

  const COMMITMENT_LABEL = encoder.encode("confiance-ledger-commitment/v1\n");

  // Whether an opening {salt, json} opens the leaf's commitment to `field`.
  async function verifyOpening(field, commitment, opening) {
    if (!opening || typeof opening.json !== "string") return false;
    const salt = fromBase64(opening.salt);
    const digest = await sha256(
      concat(COMMITMENT_LABEL, encoder.encode(`${field}\n`), salt, encoder.encode(opening.json)),
    );
    return equal(digest, fromBase64(commitment));
  }

  // The fact as this reader sees it: public fields plus the opened ones (each checked).
  async function openEntry(entry) {
    const leaf = JSON.parse(entry.data);
    const sealed = leaf.sealed || {};
    const fact = { ...leaf };
    delete fact.sealed;
    for (const [field, opening] of Object.entries(entry.openings || {})) {
      if (!(field in sealed)) throw new LedgerFailure("opening");
      if (!(await verifyOpening(field, sealed[field].commitment, opening))) {
        throw new LedgerFailure("opening");
      }
      fact[field] = JSON.parse(opening.json);
    }
    return fact;
  }

  // RFC 9162 root of the entries (each {data} or {leaf_hash}), as a checkpoint vouches for it.
  async function entriesRoot(entries) {
    const stack = [];
    let size = 0;
    for (const entry of entries) {
      let digest =
        typeof entry.data === "string"
          ? await sha256(concat(Uint8Array.of(0), encoder.encode(entry.data)))
          : fromBase64(entry.leaf_hash);
      let n = size;
      while (n % 2 === 1) {
        digest = await nodeHash(stack.pop(), digest);
        n = half(n);
      }
      stack.push(digest);
      size += 1;
    }
    if (stack.length === 0) return sha256(new Uint8Array(0));
    let digest = stack[stack.length - 1];
    for (let i = stack.length - 2; i >= 0; i -= 1) digest = await nodeHash(stack[i], digest);
    return digest;
  }

  // Checks that `entries` (a bundle's, in order from index 0) are exactly those the verified
  // checkpoint covers, checks every opening, and returns the facts as this reader sees them.
  async function verifyEntries(entries, checkpoint) {
    if (entries.length !== checkpoint.size) throw new LedgerFailure("entries");
    entries.forEach((entry, i) => {
      if (entry.index !== i) throw new LedgerFailure("entries");
    });
    if (!equal(await entriesRoot(entries), checkpoint.root)) throw new LedgerFailure("entries");
    const facts = [];
    for (const entry of entries) {
      facts.push(typeof entry.data === "string" ? await openEntry(entry) : null);
    }
    return facts;
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

    function warn(message) {
      const item = document.createElement("li");
      item.className = "ledger-warning";
      item.textContent = message;
      details.append(item);
    }

    // The checkpoints this browser kept, as a file the client can keep and compare offline
    // (`confiance verify BUNDLE --known FILE`).
    function offerDownload(record) {
      const button = section.querySelector("[data-ledger-download]");
      if (!button || !record || !Array.isArray(record.history) || !record.history.length) return;
      button.hidden = false;
      button.onclick = () => {
        const file = {
          format: "confiance-checkpoints/1",
          origin: record.origin,
          public_key: record.public_key,
          checkpoints: record.history,
        };
        const blob = new Blob([JSON.stringify(file, null, 2)], { type: "application/json" });
        const link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = `checkpoints-${record.origin.replace(/[^A-Za-z0-9.-]+/g, "-")}.json`;
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(link.href), 1000);
      };
    }

    return { texts, show, detail, warn, fail, counted, when, offerDownload };
  }

  // Key rotations announced in the log: starting from the pinned key (hex of its bytes), each
  // announcement must be signed by the key before it and name this log and the next key. The
  // pinned key's bytes reached at the end, with the steps, or null when the chain breaks.
  async function followRotations(origin, pinned, rotations) {
    let current = pinned;
    const steps = [];
    for (const rotation of Array.isArray(rotations) ? rotations : []) {
      let previous;
      let next;
      let announcement;
      try {
        previous = await parseVerifierKey(rotation.previous_key);
        next = await parseVerifierKey(rotation.new_key);
        announcement = parseAnnouncement(rotation.announcement);
      } catch (error) {
        return null;
      }
      if (toHex(previous.publicKey) !== current) continue;
      if (
        previous.name !== origin ||
        announcement.origin !== origin ||
        announcement.newKey !== rotation.new_key ||
        (await verifySignature(announcement, previous).catch(() => "invalid")) !== "ok"
      ) {
        return null;
      }
      current = toHex(next.publicKey);
      steps.push({ at: rotation.at, reason: rotation.reason });
    }
    return { to: current, steps };
  }

  function parseAnnouncement(text) {
    if (typeof text !== "string") throw new LedgerFailure("malformed");
    const split = text.lastIndexOf("\n\n");
    if (split < 0 || !text.endsWith("\n")) throw new LedgerFailure("malformed");
    const body = text.slice(0, split + 1);
    const lines = body.slice(0, -1).split("\n");
    if (lines.length !== 3 || lines[0] !== "confiance.ledger/key-rotation/v1") {
      throw new LedgerFailure("malformed");
    }
    const signatures = text
      .slice(split + 2, -1)
      .split("\n")
      .map((line) => {
        const match = /^\u2014 (\S+) (\S+)$/.exec(line);
        if (!match) throw new LedgerFailure("malformed");
        const raw = fromBase64(match[2]);
        return { name: match[1], keyId: raw.slice(0, 4), signature: raw.slice(4) };
      });
    return { text: body, origin: lines[1], newKey: lines[2], signatures };
  }

  // Other checks of the page (consumption-verify.js recomputes the figures) run on the
  // checkpoint just verified. A check throws an error with `ledgerFailure` (its message) when
  // what it verified is wrong: that is a failure of the ledger, never shown as "Verified".
  async function extraChecks(ui, note) {
    for (const extra of window.confianceLedgerChecks || []) {
      let outcome;
      try {
        outcome = await extra({
          size: note.size,
          root: note.root,
          origin: note.origin,
          detail: (message) => ui.show("checking", message),
        });
      } catch (error) {
        if (error && error.ledgerFailure) {
          ui.fail(error.ledgerFailure);
          return false;
        }
        ui.detail(fill(ui.texts.msgUnavailable, { reason: String(error && error.message) }));
        continue;
      }
      if (outcome) ui.detail(outcome);
    }
    return true;
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
      ui.offerDownload(load(STORAGE_PREFIX + (latest.origin || "")));
      return;
    }

    const storageKey = STORAGE_PREFIX + note.origin;
    const kept = load(storageKey);
    const now = new Date().toISOString();

    // Witnesses: each one configured must have cosigned; a forged cosignature is a failure,
    // a missing one a warning (the witness may be down: writes never wait for it).
    const warnings = [];
    const witnessNames = [];
    for (const witness of Array.isArray(latest.witnesses) ? latest.witnesses : []) {
      let stamp;
      try {
        const witnessKey = await parseVerifierKey(witness.verifier_key, 4);
        stamp = await verifyCosignature(note, witnessKey);
      } catch (error) {
        if (!(error instanceof LedgerFailure)) throw error;
        ui.fail(fill(texts.msgReasonCosignature, { witness: witness.name }));
        return;
      }
      witnessNames.push(witness.name);
      if (stamp === null) {
        warnings.push(
          fill(texts.msgWitnessMissing, {
            witness: witness.name,
            error: witness.last_error || "—",
          }),
        );
      } else if (stamp !== "unsupported") {
        ui.detail(fill(texts.msgWitnessOk, { witness: witness.name, date: ui.when(stamp * 1000) }));
      }
    }
    if (kept && Array.isArray(kept.witnesses)) {
      for (const name of kept.witnesses) {
        if (!witnessNames.includes(name)) {
          warnings.push(fill(texts.msgWitnessRemoved, { witness: name }));
        }
      }
    }

    const history = kept && Array.isArray(kept.history) ? kept.history.slice(-49) : [];
    if (!history.length || history[history.length - 1].note !== latest.note) {
      history.push({ note: latest.note, verified_at: now });
    }
    const record = {
      origin: note.origin,
      size: note.size,
      root: toBase64(note.root),
      public_key: latest.public_key,
      key_bytes: toHex(key.publicKey),
      note: latest.note,
      verified_at: now,
      witnesses: witnessNames,
      history,
    };
    const facts = () => {
      ui.detail(fill(texts.msgDetail, { count: note.size, root: toHex(note.root).slice(0, 16) }));
      ui.detail(
        signature === "ok" ? fill(texts.msgSignatureOk, { key: key.name }) : texts.msgNoEd25519,
      );
      for (const warning of warnings) ui.warn(warning);
      ui.offerDownload(record);
    };

    if (!kept || !Number.isSafeInteger(kept.size) || typeof kept.root !== "string") {
      if (!(await extraChecks(ui, note))) return;
      ui.show("first", ui.counted("msgFirst", note.size));
      facts();
      if (!save(storageKey, record)) ui.detail(texts.msgNoStorage);
      resolveChecked({ state: "first", origin: note.origin, size: note.size, root: note.root });
      return;
    }

    const previous = { previous: kept.size, date: ui.when(kept.verified_at) };
    // The pin is the Ed25519 key itself: a log renamed under the same key is not a key change.
    let keptKey = kept.key_bytes;
    if (typeof keptKey !== "string") {
      try {
        keptKey = toHex((await parseVerifierKey(kept.public_key)).publicKey);
      } catch (error) {
        keptKey = null;
      }
    }
    if (keptKey !== toHex(key.publicKey)) {
      const rotations = await followRotations(note.origin, keptKey, latest.rotations);
      if (rotations === null || rotations.to !== toHex(key.publicKey)) {
        ui.fail(texts.msgReasonKey);
        ui.offerDownload(kept);
        return;
      }
      for (const step of rotations.steps) {
        warnings.push(
          fill(texts.msgKeyRotated, { date: ui.when(step.at), reason: step.reason || "—" }),
        );
      }
    }
    if (note.size < kept.size) {
      ui.fail(fill(texts.msgReasonShrunk, { count: note.size, ...previous }));
      ui.offerDownload(kept);
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
      ui.offerDownload(kept);
      return;
    }
    if (!(await extraChecks(ui, note))) return;
    ui.show(
      warnings.length ? "warning" : "verified",
      ui.counted("msgVerified", note.size, { date: previous.date }),
    );
    facts();
    save(storageKey, record);
    resolveChecked({ state: "verified", origin: note.origin, size: note.size, root: note.root });
  }

  // The verifier itself, exposed so tests and the page's other scripts can use it. `checked`
  // resolves once the latest checkpoint verified ({state, origin, size, root}); it never
  // resolves if the check failed, so nothing built on it can show unverified figures.
  let resolveChecked;
  const checked = new Promise((resolve) => {
    resolveChecked = resolve;
  });
  window.confianceLedger = Object.freeze({
    verifyConsistency,
    verifyOpening,
    openEntry,
    verifyEntries,
    checked,
  });

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
