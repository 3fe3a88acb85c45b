"""Byte ranges of a file download (RFC 9110 §14): a large file resumed where it stopped."""

from __future__ import annotations

import os
import re
from typing import IO

from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

# One range: "bytes=first-last", "bytes=first-" or "bytes=-suffix". A list of ranges is served
# whole (a server may ignore Range), which no download tool needs otherwise.
_ONE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class _Slice:
    """`length` bytes of `handle` from where it stands: what FileResponse streams."""

    def __init__(self, handle: IO[bytes], length: int) -> None:
        self._handle = handle
        self._left = length

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        size = self._left if size < 0 else min(size, self._left)
        data = self._handle.read(size)
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._handle.close()


class RangeNotSatisfiable(Exception):
    """The range starts past the file's end (416)."""


def wanted_range(header: str | None, length: int) -> tuple[int, int] | None:
    """The (first, last) bytes asked for, or None to send the whole file (no range, or one this
    server ignores: several, or malformed).

    Raises RangeNotSatisfiable when no byte of the file is in the range."""
    match = _ONE_RANGE.match(header.strip()) if header else None
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first_text, last_text = match.groups()
    if first_text == "":  # the last N bytes
        suffix = int(last_text)
        if suffix == 0 or length == 0:
            raise RangeNotSatisfiable
        return max(0, length - suffix), length - 1
    first = int(first_text)
    if last_text != "" and int(last_text) < first:
        return None
    if first >= length:
        raise RangeNotSatisfiable
    last = length - 1 if last_text == "" else min(int(last_text), length - 1)
    return first, last


def file_download(
    request: HttpRequest, handle: IO[bytes], *, filename: str, content_type: str, etag: str
) -> HttpResponseBase:
    """`handle` as an attachment that can be resumed: 206 for a range of it, 416 past its end.

    `etag` names this very content: a Range sent with an `If-Range` of another version gets the
    whole file, never a piece of the new one glued to the old.
    """
    length = os.fstat(handle.fileno()).st_size
    if_range = request.headers.get("If-Range")
    asked = request.headers.get("Range") if if_range in (None, etag) else None
    try:
        wanted = wanted_range(asked, length)
    except RangeNotSatisfiable:
        handle.close()
        response: HttpResponseBase = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{length}"
        response["Accept-Ranges"] = "bytes"
        response["ETag"] = etag
        return response
    if wanted is None:
        response = FileResponse(
            handle, as_attachment=True, filename=filename, content_type=content_type
        )
    else:
        first, last = wanted
        handle.seek(first)
        response = FileResponse(
            _Slice(handle, last - first + 1),
            as_attachment=True,
            filename=filename,
            content_type=content_type,
            status=206,
        )
        response["Content-Length"] = str(last - first + 1)
        response["Content-Range"] = f"bytes {first}-{last}/{length}"
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    return response
