"""`confiance witness`: run a C2SP tlog-witness for Confiance ledgers, with no database.

    confiance witness keygen --name NAME --key-file FILE
        makes a witness key, writes it to FILE (readable by its owner only), prints the vkey
        to give to the provider (the engagement's Ledger section, "Add a witness").
    confiance witness serve --key-file FILE --state STATE.sqlite3 --log VKEY [--log VKEY]
                            [--listen 127.0.0.1:7380] [--prefix /]
        serves POST <prefix>add-checkpoint and GET <prefix><origin hash>/checkpoint.

Imports nothing from Django. Exit status: 0 stopped normally, 2 bad arguments or key file.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import sys
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TextIO

from confiance.ledger.checkpoint import (
    COSIGNATURE_ALGORITHM,
    CheckpointError,
    generate_signing_key,
    is_valid_key_name,
    parse_verifier_key,
)
from confiance.ledger.witness import MAX_REQUEST_BYTES, Answer, Witness, WitnessStore

EXIT_OK = 0
EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="confiance witness",
        description="A C2SP tlog-witness that cosigns Confiance ledger checkpoints.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    keygen = commands.add_parser("keygen", help="make a witness key")
    keygen.add_argument("--name", required=True, help="the witness name, e.g. acme.example/w1")
    keygen.add_argument("--key-file", required=True, help="where to write the private key")
    serve = commands.add_parser("serve", help="serve the witness over HTTP")
    serve.add_argument("--key-file", required=True)
    serve.add_argument("--state", required=True, help="SQLite file keeping each log's latest")
    serve.add_argument(
        "--log",
        action="append",
        required=True,
        metavar="VKEY",
        help="a log's (or a workspace's) verifier key to witness; repeat for several",
    )
    serve.add_argument("--listen", default="127.0.0.1:7380", help="host:port")
    serve.add_argument("--prefix", default="/", help="URL prefix of the witness")
    return parser


def load_key_file(path: str) -> tuple[str, bytes]:
    """(name, 32-byte private key) from a key file; raises ValueError if unusable."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        name = data["name"]
        private = base64.b64decode(data["private_key"], validate=True)
    except (OSError, ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise ValueError(f"cannot read the witness key file {path}: {exc}") from None
    if not isinstance(name, str) or not is_valid_key_name(name) or len(private) != 32:
        raise ValueError(f"{path} is not a witness key file")
    return name, private


def _keygen(name: str, path: str, out: TextIO) -> None:
    private, vkey = generate_signing_key(name, COSIGNATURE_ALGORITHM)
    text = json.dumps({"name": name, "private_key": base64.b64encode(private).decode()})
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    print(vkey, file=out)


def make_server(witness: Witness, listen: str, prefix: str) -> ThreadingHTTPServer:
    """An HTTP server for `witness` (not started); port 0 picks a free one."""
    host, _, port = listen.rpartition(":")
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, answer: Answer) -> None:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def do_POST(self) -> None:
            if self.path != prefix + "add-checkpoint":
                self._send(Answer(404, b"not found\n"))
                return
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self._send(Answer(411, b"Content-Length required\n"))
                return
            if not 0 <= length <= MAX_REQUEST_BYTES:
                self._send(Answer(413, b"request too large\n"))
                return
            self._send(witness.add_checkpoint(self.rfile.read(length)))

        def do_GET(self) -> None:
            rest = self.path[len(prefix) :] if self.path.startswith(prefix) else ""
            origin_hash, _, tail = rest.partition("/")
            if tail != "checkpoint" or len(origin_hash) != 64:
                self._send(Answer(404, b"not found\n"))
                return
            self._send(witness.latest(origin_hash))

        def log_message(self, format: str, *args: object) -> None:
            sys.stderr.write("witness: " + (format % args) + "\n")

    return ThreadingHTTPServer((host or "127.0.0.1", int(port)), Handler)


def run(argv: Sequence[str], out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run `confiance witness ...`; returns the exit status."""
    args = _parser().parse_args(list(argv))
    if args.command == "keygen":
        if not is_valid_key_name(args.name):
            print(f"invalid witness name {args.name!r}: no spaces nor '+'", file=err)
            return EXIT_USAGE
        try:
            _keygen(args.name, args.key_file, out)
        except OSError as exc:
            print(f"cannot write {args.key_file}: {exc.strerror or exc}", file=err)
            return EXIT_USAGE
        return EXIT_OK
    try:
        name, private = load_key_file(args.key_file)
        logs = [parse_verifier_key(vkey) for vkey in args.log]
        store = WitnessStore(args.state)
        server = make_server(
            Witness(name=name, private_key=private, logs=logs, store=store),
            args.listen,
            args.prefix,
        )
    except (ValueError, CheckpointError, OSError) as exc:
        print(f"confiance witness: {exc}", file=err)
        return EXIT_USAGE
    host, port = server.server_address[:2]
    host_text = host.decode() if isinstance(host, bytes) else host
    print(f"Witness {name} listening on http://{host_text}:{port}{args.prefix}", file=out)
    out.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        store.close()
    return EXIT_OK
