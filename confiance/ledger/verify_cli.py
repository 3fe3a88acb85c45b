"""`confiance verify BUNDLE`: check an exported ledger bundle offline, with no database.

Imports nothing from Django (the `confiance` command hands over before Django loads), so it
runs anywhere the package is installed, without settings. Messages are translated with the
project's own catalogue through the standard library's gettext, following LANGUAGE/LC_ALL/
LANG; the reason of a failure comes from bundle.py and stays in English.
Exit status: 0 verified, 1 verification failed, 2 file unreadable or not JSON.
"""

from __future__ import annotations

import argparse
import gettext
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from confiance.ledger.bundle import verify_bundle

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNREADABLE = 2

_translation = gettext.translation("django", localedir=LOCALE_DIR, fallback=True)
_ = _translation.gettext
ngettext = _translation.ngettext


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="confiance verify",
        description=_(
            "Check a ledger bundle exported from Confiance: every entry, every checkpoint "
            "signature, and that no checkpoint rewrites an earlier one. Needs no database."
        ),
    )
    parser.add_argument("bundle", metavar="BUNDLE", help=_("the bundle file (JSON)"))
    return parser


def _load(path: str) -> object:
    """The bundle's JSON; raises OSError, UnicodeDecodeError or ValueError."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def run(argv: Sequence[str], out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Verify the bundle named in `argv`, print a plain report, return the exit status."""
    args = _parser().parse_args(list(argv))
    try:
        bundle = _load(args.bundle)
    except OSError as exc:
        message = _("Cannot read %(path)s: %(reason)s")
        print(message % {"path": args.bundle, "reason": exc.strerror or exc}, file=err)
        return EXIT_UNREADABLE
    except (UnicodeDecodeError, ValueError) as exc:
        message = _("%(path)s is not a JSON file: %(reason)s")
        print(message % {"path": args.bundle, "reason": exc}, file=err)
        return EXIT_UNREADABLE

    report = verify_bundle(bundle)
    print(_("Ledger bundle: %(path)s") % {"path": args.bundle}, file=out)
    if isinstance(bundle, dict):
        for label, key in ((_("Origin"), "origin"), (_("Public key"), "public_key")):
            if isinstance(bundle.get(key), str):
                print(f"{label}: {bundle[key]}", file=out)
    print(_("Entries checked: %(count)d") % {"count": report.checked_entries}, file=out)
    print(_("Checkpoints checked: %(count)d") % {"count": report.checkpoints}, file=out)
    if not report.ok:
        print(_("FAILED: %(reason)s") % {"reason": report.first_failure}, file=out)
        return EXIT_FAILED
    entries = report.checked_entries
    message = ngettext(
        "OK: %(count)d entry matches the signed checkpoints, and no checkpoint rewrites "
        "an earlier one.",
        "OK: %(count)d entries match the signed checkpoints, and no checkpoint rewrites "
        "an earlier one.",
        entries,
    )
    print(message % {"count": entries}, file=out)
    if report.signed_size < entries:
        unsigned = _(
            "Note: entries %(first)d to %(last)d are not covered by any checkpoint yet, "
            "so nothing vouches for them."
        )
        print(unsigned % {"first": report.signed_size, "last": entries - 1}, file=out)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
