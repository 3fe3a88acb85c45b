"""Files people attach (to a discussion post, to a problem): one allow-list of types recognised by
their content, stored outside the static and web roots, served only by views that check access.

Every capability that takes files calls `attachment_check` then `attachment_store`, and serves
them with `attachment_response`, so a type or a check added here holds everywhere.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

ALLOWED_ATTACHMENTS: dict[str, str] = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".md": "text/markdown",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_MAGIC = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".docx": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
    ".pptx": (b"PK\x03\x04",),
}


@dataclass(frozen=True)
class Checked:
    """An upload that passed the checks: its safe name, type and content."""

    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Stored:
    path: str  # relative to the attachment folder
    size: int
    sha256: str


def attachment_check(upload: UploadedFile, *, max_bytes: int, field: str = "attachment") -> Checked:
    """The upload's type (by name and by content) and size, or a field error; nothing stored."""
    name = Path(upload.name or "file").name
    suffix = Path(name).suffix.lower()
    if suffix not in ALLOWED_ATTACHMENTS:
        raise ValidationError(
            {field: _("This type of file is not accepted (PDF, images, text, office documents).")}
        )
    if (upload.size or 0) > max_bytes:
        raise ValidationError(
            {
                field: _("The file is too large (at most %(mb)s MB).")
                % {"mb": max_bytes // (1024 * 1024)}
            }
        )
    data = upload.read()
    if len(data) > max_bytes:  # the declared size may lie
        raise ValidationError(
            {
                field: _("The file is too large (at most %(mb)s MB).")
                % {"mb": max_bytes // (1024 * 1024)}
            }
        )
    magic = _MAGIC.get(suffix)
    wrong = ValidationError({field: _("The file's content does not match its type.")})
    if magic is not None and not data.startswith(magic):
        raise wrong
    if magic is None:  # text: must be text, and never markup a browser would run
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise wrong from None
        if "<script" in text.lower() or "<html" in text.lower():
            raise wrong
    return Checked(name=name[:200], content_type=ALLOWED_ATTACHMENTS[suffix], data=data)


def attachment_store(folder: Path, workspace_id: int, checked: Checked) -> Stored:
    """Write the content under folder/<workspace>/ with a random name (never the user's)."""
    target = folder / str(workspace_id)
    target.mkdir(parents=True, exist_ok=True)
    stored = target / uuid.uuid4().hex
    stored.write_bytes(checked.data)
    return Stored(
        path=str(stored.relative_to(folder)),
        size=len(checked.data),
        sha256=hashlib.sha256(checked.data).hexdigest(),
    )


def attachment_response(folder: Path, path: str, name: str, content_type: str) -> FileResponse:
    """The stored file, always as a download, sandboxed; 404 when it is not under `folder`."""
    full = folder / path
    if not full.resolve().is_relative_to(folder.resolve()) or not full.exists():
        raise Http404
    response = FileResponse(
        full.open("rb"),
        as_attachment=True,
        filename=name,
        content_type=content_type,
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response
