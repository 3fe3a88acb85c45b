"""The ledger's Merkle log: appends against raw SHA-256, memory, proof times; then on Django.

Part 1 runs in a child process (no Django, a clean max RSS): 1,000,000 leaves are appended to
a `tree.MerkleLog` over a `tree.SQLiteNodeStore` in a temporary file, generated on the fly so
the log is never held in memory. Its rate is compared with hashlib.sha256 over the same leaves,
measured in the same run: one SHA-256 per leaf is the physical limit (an append does that, one
more node hash on average, and the writes). Then inclusion and consistency proof times at
1,000,000 leaves, median of many. Part 2 appends 20,000 leaves through Django's
`DatabaseNodeStore` (nodes only, then whole ledger entries), in batches: figures only.
`python bench/bench_ledger.py --leaves 100000` runs part 1 alone.

Part 3 (another child process, no Django): `confiance verify`'s streaming verifier on a
100,000-entry bundle written to a file, time and peak memory, against reading the same file
with json.load (memory) and raw SHA-256 of its leaves (time). Part 4 (Django): the cost of an
append followed by its checkpoint, per batch of 1, 10 and 100 entries, against raw SHA-256 of
the batch; and the witness round-trip on loopback (C2SP add-checkpoint to `confiance witness
serve`'s server in a thread) against a bare HTTP round-trip to the same server.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, report

LEAVES = 1_000_000
MEMORY_LEAVES = 100_000
DJANGO_LEAVES = 20_000
DJANGO_BATCH = 1_000


def leaves(start: int, count: int) -> Iterator[bytes]:
    """Leaf data shaped like a time entry's canonical JSON (about 200 bytes), made on the fly."""
    for i in range(start, start + count):
        yield (
            b'{"activity":"Migration","at":"2026-11-22T09:00:00+01:00","by":"consultant@'
            b'provider.example","date":"2026-11-%02d","engagement":1,"entry":%d,'
            b'"kind":"time_entry","minutes":%d,"note":"Work item %d","seq":%d}'
            % (i % 28 + 1, i + 1, 30 + i % 8 * 30, i, i)
        )


def raw_sha256_rate(count: int) -> float:
    """Leaves per second hashed by hashlib.sha256 alone, on the same generated leaves."""
    sha256 = hashlib.sha256
    started = time.perf_counter()
    for leaf in leaves(0, count):
        sha256(b"\x00" + leaf).digest()
    return count / (time.perf_counter() - started)


def median_ms(fn: Callable[[], object], seconds: float, at_least: int = 200) -> tuple[float, int]:
    """Median time of one call of `fn`, in ms, over about `seconds` (and `at_least` calls)."""
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(times) < at_least or time.perf_counter() < deadline:
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, len(times)


def max_rss_mb() -> float:
    """Peak resident memory of this process, in MB."""
    # VmHWM is this process's own peak; ru_maxrss would carry the parent's from before exec.
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def sqlite_part(count: int, seconds: float) -> dict[str, Any]:
    """Part 1 (run in the child process): append, memory, proofs on a SQLite node store."""
    from confiance.ledger.merkle import verify_consistency, verify_inclusion
    from confiance.ledger.tree import (
        DEFAULT_BATCH_SIZE,
        MemoryNodeStore,
        MerkleLog,
        SQLiteNodeStore,
    )

    result: dict[str, Any] = {"leaves": count, "batch": DEFAULT_BATCH_SIZE}
    rss_start = max_rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.sqlite3"
        with SQLiteNodeStore(path) as store:
            log = MerkleLog(store)
            result["raw_rate"] = raw_sha256_rate(count)
            started = time.perf_counter()
            log.append_many(leaves(0, count))
            result["append_rate"] = count / (time.perf_counter() - started)
            result["rss_start_mb"] = rss_start
            result["rss_after_mb"] = max_rss_mb()
            result["file_mb"] = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6

            # Python allocations while appending, once the log is already large.
            tracemalloc.start()
            log.append_many(leaves(count, MEMORY_LEAVES))
            result["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
            result["memory_leaves"] = MEMORY_LEAVES

            rng = random.Random(9162)
            root = log.root(count)
            last: list[tuple[int, list[bytes]]] = []

            def inclusion() -> None:
                index = rng.randrange(count)
                last[:] = [(index, log.inclusion_proof(index, count))]

            def consistency() -> None:
                old = rng.randrange(1, count)
                last[:] = [(old, log.consistency_proof(old, count))]

            result["inclusion_ms"], result["inclusion_n"] = median_ms(inclusion, seconds / 2)
            # The proofs timed are right ones: check the last of each.
            index, proof = last[0]
            assert verify_inclusion(next(leaves(index, 1)), index, count, proof, root)
            result["consistency_ms"], result["consistency_n"] = median_ms(consistency, seconds / 2)
            old, proof = last[0]
            assert verify_consistency(old, count, log.root(old), root, proof)

    # Where the time goes: the same appends with the nodes kept in a dict (no storage).
    started = time.perf_counter()
    MerkleLog(MemoryNodeStore()).append_many(leaves(0, MEMORY_LEAVES))
    result["memory_store_rate"] = MEMORY_LEAVES / (time.perf_counter() - started)
    return result


VERIFY_ENTRIES = 100_000


def verify_part(count: int) -> dict[str, Any]:
    """Part 3 (child process): stream-verify a bundle of `count` entries written to a file."""
    from confiance.ledger.bundle import BUNDLE_FORMAT, verify_stream
    from confiance.ledger.checkpoint import format_checkpoint, generate_signing_key
    from confiance.ledger.checkpoint import sign_checkpoint as sign
    from confiance.ledger.tree import MemoryNodeStore, MerkleLog

    origin = "bench.example/ledger/1"
    private, vkey = generate_signing_key(origin)
    log = MerkleLog(MemoryNodeStore())
    log.append_many(leaves(0, count))
    note = sign(format_checkpoint(origin, count, log.root()), origin, private)
    result: dict[str, Any] = {"entries": count}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bundle.json"
        with path.open("w", encoding="utf-8") as out:
            head = {"format": BUNDLE_FORMAT, "origin": origin, "public_key": vkey}
            out.write(json.dumps(head)[:-1])
            out.write(', "reader": {"audiences": []}, "checkpoints": ')
            out.write(json.dumps([note]))
            out.write(', "entries": [')
            for i, leaf in enumerate(leaves(0, count)):
                out.write(("," if i else "") + json.dumps({"index": i, "data": leaf.decode()}))
            out.write("]}")
        result["file_mb"] = path.stat().st_size / 1e6
        result["raw_rate"] = raw_sha256_rate(count)

        # Time first, without tracing; then the same runs again under tracemalloc for memory.
        for traced in (False, True):
            if traced:
                tracemalloc.start()
            started = time.perf_counter()
            with path.open(encoding="utf-8") as handle:
                outcome = verify_stream(handle, key=vkey)
            if traced:
                result["verify_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
                tracemalloc.stop()
            else:
                result["verify_s"] = time.perf_counter() - started
            if not outcome.ok:
                raise RuntimeError(f"the bundle does not verify: {outcome.first_failure}")
            if traced:
                tracemalloc.start()
            started = time.perf_counter()
            with path.open(encoding="utf-8") as handle:
                loaded = json.load(handle)
            if traced:
                result["load_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
                tracemalloc.stop()
            else:
                result["load_s"] = time.perf_counter() - started
            del loaded
    return result


def print_verify_part(r: dict[str, Any]) -> None:
    rate_ = r["entries"] / r["verify_s"]
    print(
        f"\nconfiance verify (streaming), a bundle of {r['entries']:,} entries "
        f"({r['file_mb']:.1f} MB on disk):"
    )
    report(
        [
            ("raw hashlib.sha256 of the leaves (limit)", f"{r['raw_rate']:10,.0f} entries/s"),
            (
                "verify_stream: parse, hash, fold, check the signature",
                f"{rate_:10,.0f} entries/s   ratio {rate_ / r['raw_rate']:.3f}   "
                f"({r['verify_s']:.2f} s)",
            ),
            (
                "peak Python memory of verify_stream",
                f"{r['verify_peak_mb']:10.1f} MB   ratio to json.load "
                f"{r['verify_peak_mb'] / r['load_peak_mb']:.3f}",
            ),
            (
                "json.load of the same file (baseline)",
                f"{r['load_peak_mb']:10.1f} MB   ({r['load_s']:.2f} s)",
            ),
        ]
    )


def checkpoint_part(seconds: float) -> None:
    """Part 4: append + checkpoint per batch; witness round-trip on loopback."""
    import threading
    import urllib.request

    from django.db import transaction

    from bench.generate import generate
    from confiance.engagements.models import Engagement
    from confiance.ledger import services, witnessing
    from confiance.ledger.checkpoint import (
        COSIGNATURE_ALGORITHM,
        generate_signing_key,
        parse_verifier_key,
    )
    from confiance.ledger.models import Witness
    from confiance.ledger.witness import Witness as WitnessLogic
    from confiance.ledger.witness import WitnessStore
    from confiance.ledger.witness_cli import make_server

    data = generate(workspaces=1, clients=1, engagements=2, members=1, slug_prefix="ckpt")
    first, second = Engagement.objects.filter(workspace__slug=data.workspace_slugs[0])[:2]
    rows = []
    for batch in (1, 10, 100):
        payloads = [{"entry": i, "minutes": 30, "note": f"Item {i}"} for i in range(batch)]

        def append_and_sign(payloads: list[dict[str, Any]] = payloads) -> None:
            with transaction.atomic():
                services.ledger_append_many(
                    engagement=first, kind="bench", payloads=payloads, actor=None
                )
            services.checkpoint_sign(engagement=first)

        cost_ms, n = median_ms(append_and_sign, seconds / 3, at_least=10)
        raw_ms, _ = median_ms(
            lambda batch=batch: [hashlib.sha256(b"\x00" + x).digest() for x in leaves(0, batch)],
            0.2,
        )
        rows.append(
            (
                f"append {batch:>3} + sign a checkpoint",
                f"{cost_ms:10.2f} ms median of {n}   "
                f"ratio to raw SHA-256 of the batch {cost_ms / raw_ms:,.0f}",
            )
        )

    from django.conf import settings

    settings.WITNESS_ALLOW_PRIVATE_ADDRESSES = True  # the benchmark's witness is on loopback
    with tempfile.TemporaryDirectory() as tmp:
        workspace_key = services.workspace_key_get_or_create(workspace=second.workspace)
        private, vkey = generate_signing_key("bench.example/witness", COSIGNATURE_ALGORITHM)
        logic = WitnessLogic(
            name="bench.example/witness",
            private_key=private,
            logs=[parse_verifier_key(workspace_key.verifier_key)],
            store=WitnessStore(Path(tmp) / "w.sqlite3"),
        )
        httpd = make_server(logic, "127.0.0.1:0", "/")
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        quiet = contextlib.redirect_stderr(io.StringIO())  # the server logs each request
        quiet.__enter__()
        host, port = httpd.server_address[:2]
        url = f"http://{host}:{port}/"
        witness = Witness.objects.create(
            workspace=second.workspace,
            engagement=second,
            name="bench.example/witness",
            verifier_key=vkey,
            url=url,
            side="client",
        )
        times: list[float] = []
        deadline = time.perf_counter() + seconds / 3
        while len(times) < 20 or time.perf_counter() < deadline:
            with transaction.atomic():
                services.ledger_append_many(
                    engagement=second, kind="bench", payloads=[{"n": len(times)}], actor=None
                )
            services.checkpoint_sign(engagement=second)
            started = time.perf_counter()
            error = witnessing.witness_submit(witness_id=witness.pk)
            times.append(time.perf_counter() - started)
            if error:
                raise RuntimeError(f"the witness refused: {error}")

        def bare() -> None:
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(url + "nothing", timeout=5)

        bare_ms, _ = median_ms(bare, seconds / 6, at_least=20)
        httpd.shutdown()
        httpd.server_close()
        quiet.__exit__(None, None, None)
    witness_ms = statistics.median(times) * 1000
    rows.append(
        (
            "witness round-trip (add-checkpoint, cosignature stored)",
            f"{witness_ms:10.2f} ms median of {len(times)}   "
            f"ratio to a bare loopback request {witness_ms / bare_ms:.1f}",
        )
    )
    rows.append(("bare HTTP request to the same server (baseline)", f"{bare_ms:10.2f} ms"))
    print("\nCheckpoints and witnesses through Django (the benchmarks' database):")
    report(rows)


def run(seconds: float = 3.0, leaves_count: int = LEAVES) -> None:
    """All parts; the pure ones in child processes, the others on the benchmarks' database."""
    child = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--leaves",
            str(leaves_count),
            "--json",
            "--seconds",
            str(seconds),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if child.returncode != 0:
        sys.stderr.write(child.stderr)
        raise RuntimeError(f"the SQLite part failed (exit status {child.returncode})")
    print_sqlite_part(json.loads(child.stdout))
    django_part(seconds)
    child = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--verify", str(VERIFY_ENTRIES)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if child.returncode != 0:
        sys.stderr.write(child.stderr)
        raise RuntimeError(f"the verify part failed (exit status {child.returncode})")
    print_verify_part(json.loads(child.stdout))
    checkpoint_part(seconds)


def print_sqlite_part(r: dict[str, Any]) -> None:
    print(
        f"\nMerkle log on SQLite (tree.SQLiteNodeStore, a temporary file), "
        f"{r['leaves']:,} leaves appended in batches of {r['batch']}:"
    )
    report(
        [
            ("raw hashlib.sha256, one per leaf (limit)", f"{r['raw_rate']:10,.0f} leaves/s"),
            (
                "MerkleLog.append_many",
                f"{r['append_rate']:10,.0f} leaves/s   "
                f"ratio {r['append_rate'] / r['raw_rate']:.3f}",
            ),
            (
                f"MerkleLog in a dict, {r['memory_leaves']:,} leaves (no storage)",
                f"{r['memory_store_rate']:10,.0f} leaves/s   "
                f"ratio {r['memory_store_rate'] / r['raw_rate']:.3f}",
            ),
            (
                f"peak Python memory, {r['memory_leaves']:,} more appends",
                f"{r['tracemalloc_peak_mb']:10.1f} MB (tracemalloc)",
            ),
            (
                "max RSS of the process",
                f"{r['rss_after_mb']:10.1f} MB (before appending: {r['rss_start_mb']:.1f} MB)",
            ),
            ("node file on disk", f"{r['file_mb']:10.1f} MB"),
            (
                f"inclusion proof at {r['leaves']:,}",
                f"{r['inclusion_ms']:10.3f} ms median of {r['inclusion_n']:,}",
            ),
            (
                f"consistency proof to {r['leaves']:,}",
                f"{r['consistency_ms']:10.3f} ms median of {r['consistency_n']:,}",
            ),
        ]
    )


def django_part(seconds: float) -> None:
    """Part 2: appends and a proof through Django's DatabaseNodeStore (figures only)."""
    from django.db import connection, transaction

    from bench.generate import generate
    from confiance.engagements.models import Engagement
    from confiance.ledger.models import LedgerHead
    from confiance.ledger.services import ledger_append_many
    from confiance.ledger.store import DatabaseNodeStore
    from confiance.ledger.tree import MerkleLog

    data = generate(workspaces=1, clients=1, engagements=2, members=1, slug_prefix="ledger")
    first, second = Engagement.objects.filter(workspace__slug=data.workspace_slugs[0])[:2]

    head = LedgerHead.objects.create(engagement=first, workspace_id=first.workspace_id)
    log = MerkleLog(DatabaseNodeStore(head))
    started = time.perf_counter()
    for start in range(0, DJANGO_LEAVES, DJANGO_BATCH):
        with transaction.atomic():
            log.append_many(leaves(start, DJANGO_BATCH), batch_size=DJANGO_BATCH)
    nodes_rate = DJANGO_LEAVES / (time.perf_counter() - started)

    payloads = [
        {"entry": i, "minutes": 30 + i % 8 * 30, "note": f"Work item {i}"}
        for i in range(DJANGO_BATCH)
    ]
    started = time.perf_counter()
    for _ in range(0, DJANGO_LEAVES, DJANGO_BATCH):
        with transaction.atomic():
            ledger_append_many(engagement=second, kind="bench", payloads=payloads, actor=None)
    entries_rate = DJANGO_LEAVES / (time.perf_counter() - started)

    rng = random.Random(1)
    proof_ms, proof_n = median_ms(
        lambda: log.inclusion_proof(rng.randrange(DJANGO_LEAVES)), seconds / 2
    )
    print(
        f"\nThe same through Django ({connection.vendor}, DatabaseNodeStore), "
        f"{DJANGO_LEAVES:,} leaves in transactions of {DJANGO_BATCH:,}:"
    )
    report(
        [
            ("MerkleLog.append_many, nodes only", f"{nodes_rate:10,.0f} leaves/s"),
            ("ledger_append_many, entries and nodes", f"{entries_rate:10,.0f} leaves/s"),
            (
                f"inclusion proof at {DJANGO_LEAVES:,}",
                f"{proof_ms:10.3f} ms median of {proof_n:,} (one query)",
            ),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leaves", type=int, default=LEAVES)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--json", action="store_true", help="print part 1's figures as JSON")
    parser.add_argument("--verify", type=int, help="run part 3 on a bundle of this many entries")
    args = parser.parse_args()
    if args.verify:
        print(json.dumps(verify_part(args.verify)))
        return
    figures = sqlite_part(args.leaves, args.seconds)
    if args.json:
        print(json.dumps(figures))
    else:
        print_sqlite_part(figures)


if __name__ == "__main__":
    main()
