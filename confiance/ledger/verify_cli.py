"""`confiance verify`: check exported ledger bundles offline, trusting only the keys given.

    confiance verify BUNDLE --key VKEY [--known CHECKPOINT]... [--witness VKEY]...
                     [--allow-unsigned-tail]
    confiance verify OLD NEW --key VKEY [...]     NEW must extend OLD (same log, same history)

Imports nothing from Django (the `confiance` command hands over before Django loads), so it
runs anywhere the package is installed, without settings. Messages are translated with the
project's own catalogue through the standard library's gettext, following LANGUAGE/LC_ALL/
LANG; the reason of a failure comes from bundle.py and stays in English.

Exit status: 0 verified; 1 verification failed (tampering, a rewrite, a rollback, a missing
or wrong opening, entries no trusted checkpoint covers); 2 unusable input (a file unreadable
or not a bundle, a malformed key or checkpoint, bad arguments). Bundles are read as a stream:
memory stays bounded whatever their size.
"""

from __future__ import annotations

import argparse
import gettext
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from confiance.ledger.bundle import VerifyReport, verify_stream
from confiance.ledger.checkpoint import (
    COSIGNATURE_ALGORITHM,
    CheckpointError,
    parse_checkpoint,
    parse_verifier_key,
)

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNREADABLE = 2

_translation = gettext.translation("django", localedir=LOCALE_DIR, fallback=True)
_ = _translation.gettext
ngettext = _translation.ngettext


class _Unusable(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_UNREADABLE, f"{self.prog}: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="confiance verify",
        description=_(
            "Check a ledger bundle exported from Confiance: every entry, every checkpoint "
            "signature, and that no checkpoint rewrites an earlier one. Needs no database."
        ),
        epilog=_("Exit status: 0 verified, 1 verification failed, 2 unusable input."),
    )
    parser.add_argument("bundles", metavar="BUNDLE", nargs="+", help=_("the bundle file (JSON)"))
    parser.add_argument(
        "--key",
        required=True,
        metavar="VKEY",
        help=_("the verifier key of the log or of its workspace, as shown in Confiance"),
    )
    parser.add_argument(
        "--known",
        action="append",
        default=[],
        metavar="CHECKPOINT",
        help=_("a file with a checkpoint seen earlier (or the checkpoints a browser kept)"),
    )
    parser.add_argument(
        "--witness",
        action="append",
        default=[],
        metavar="VKEY",
        help=_("a witness whose cosignature the latest checkpoint must carry"),
    )
    parser.add_argument(
        "--allow-unsigned-tail",
        action="store_true",
        help=_("accept, as unverified, entries that come after the last trusted checkpoint"),
    )
    return parser


def _known_notes(path: str) -> list[str]:
    """The checkpoints in a file: one signed note, or a JSON download of kept checkpoints."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        message = _("Cannot read %(path)s: %(reason)s")
        raise _Unusable(message % {"path": path, "reason": reason}) from None
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
            notes = [
                item if isinstance(item, str) else item["note"] for item in data["checkpoints"]
            ]
        except (ValueError, KeyError, TypeError):
            notes = None
        if not notes or not all(isinstance(n, str) for n in notes):
            raise _Unusable(_("%(path)s holds no checkpoint.") % {"path": path})
    else:
        notes = [text]
    for note in notes:
        try:
            parse_checkpoint(note)
        except CheckpointError as exc:
            message = _("%(path)s is not a checkpoint: %(reason)s")
            raise _Unusable(message % {"path": path, "reason": exc}) from None
    return notes


def _verify(path: str, args: argparse.Namespace, known: list[str]) -> VerifyReport:
    try:
        with open(path, encoding="utf-8") as handle:
            return verify_stream(
                handle,
                key=args.key,
                known=known,
                witnesses=args.witness,
                allow_unsigned_tail=args.allow_unsigned_tail,
            )
    except OSError as exc:
        message = _("Cannot read %(path)s: %(reason)s")
        raise _Unusable(message % {"path": path, "reason": exc.strerror or exc}) from None


def _print_report(path: str, report: VerifyReport, out: TextIO) -> None:
    print(_("Ledger bundle: %(path)s") % {"path": path}, file=out)
    if report.origin:
        print(_("Origin: %(origin)s") % {"origin": report.origin}, file=out)
    print(_("Entries checked: %(count)d") % {"count": report.checked_entries}, file=out)
    print(_("Checkpoints checked: %(count)d") % {"count": report.checkpoints}, file=out)
    if report.openings or report.erased or report.withheld:
        details = _(
            "Openings checked: %(openings)d; fields erased: %(erased)d; "
            "entries withheld: %(withheld)d"
        )
        values = {"openings": report.openings, "erased": report.erased, "withheld": report.withheld}
        print(details % values, file=out)


def run(argv: Sequence[str], out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Verify the bundle(s) named in `argv`, print a plain report, return the exit status."""
    args = _parser().parse_args(list(argv))
    if len(args.bundles) > 2:
        print(_("Give one bundle, or two (OLD NEW) to compare."), file=err)
        return EXIT_UNREADABLE
    try:
        parse_verifier_key(args.key)
        for witness in args.witness:
            parse_verifier_key(witness, COSIGNATURE_ALGORITHM)
    except CheckpointError as exc:
        print(_("Unusable key: %(reason)s") % {"reason": exc}, file=err)
        return EXIT_UNREADABLE
    try:
        known = [note for path in args.known for note in _known_notes(path)]
        reports: list[tuple[str, VerifyReport]] = []
        for number, path in enumerate(args.bundles):
            report = _verify(path, args, known)
            reports.append((path, report))
            if not report.ok:
                break
            if number == 0 and len(args.bundles) == 2:
                if report.latest_note is None:
                    break
                # NEW must hold OLD's latest trusted checkpoint as its own history.
                known = [*known, report.latest_note]
    except _Unusable as exc:
        print(str(exc), file=err)
        return EXIT_UNREADABLE
    status = EXIT_OK
    for path, report in reports:
        _print_report(path, report, out)
        if report.unusable:
            print(_("UNUSABLE: %(reason)s") % {"reason": report.first_failure}, file=out)
            return EXIT_UNREADABLE
        if not report.ok:
            print(_("FAILED: %(reason)s") % {"reason": report.first_failure}, file=out)
            return EXIT_FAILED
        for warning in report.warnings:
            print(_("Warning: %(reason)s") % {"reason": warning}, file=out)
    path, report = reports[-1]
    if len(reports) < len(args.bundles):
        print(_("FAILED: the old bundle has no trusted checkpoint to compare with."), file=out)
        return EXIT_FAILED
    message = ngettext(
        "OK: %(count)d entry matches the checkpoints signed by the trusted key, and no "
        "checkpoint rewrites an earlier one.",
        "OK: %(count)d entries match the checkpoints signed by the trusted key, and no "
        "checkpoint rewrites an earlier one.",
        report.checked_entries,
    )
    print(message % {"count": report.checked_entries}, file=out)
    if len(reports) == 2:
        print(_("OK: the new bundle extends the old one."), file=out)
    return status
