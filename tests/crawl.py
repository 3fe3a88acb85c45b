"""Visit every page type a person can reach by following links, one page per URL name.

Used by the French test (Django's test client) and the phone/accessibility sweep (Chromium), so
a page added by anyone is checked as soon as a link reaches it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.urls import Resolver404, resolve

# Not pages: actions, downloads, feeds and the API (checked by their own tests).
SKIPPED_NAMES = {"logout", "set_language", "healthz"}
SKIPPED_PREFIXES = ("/api/", "/static/", "/feeds/", "/calendar/")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href and not dict(attrs).get("download"):
                self.links.append(href)


def links_of(html: str, base: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    found = []
    for href in parser.links:
        url = urljoin(base, href)
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "") and parts.netloc in ("", urlsplit(base).netloc):
            found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def fetcher(http: Any) -> Callable[[str], tuple[int, str, str]]:
    """`fetch` for `crawl` from Django's test client (logged in as whoever it is)."""

    def fetch(path: str) -> tuple[int, str, str]:
        response = http.get(path)
        if response.has_header("Location"):
            return response.status_code, "", response["Location"]
        body = response.content.decode() if "html" in response.get("Content-Type", "") else ""
        return response.status_code, response.get("Content-Type", ""), body

    return fetch


def url_name(path: str) -> str | None:
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return match.view_name


def crawl(
    fetch: Callable[[str], tuple[int, str, str]], start: str, limit: int = 200
) -> Iterator[tuple[str, str, int, str]]:
    """Yield (path, url name, status, html) for the first page of each URL name reachable.

    `fetch(path)` returns (status, content type, body); for a redirect, the body is its target.
    """
    seen_names: set[str] = set()
    queue = [start]
    queued = {start}
    while queue and len(seen_names) < limit:
        path = queue.pop(0)
        name = url_name(path)
        if name is None or name in SKIPPED_NAMES or path.startswith(SKIPPED_PREFIXES):
            continue
        if name in seen_names:
            continue
        status, content_type, body = fetch(path)
        if 300 <= status < 400:
            if body and body not in queued:
                queued.add(body)
                queue.append(body)
            continue
        if "html" not in content_type:
            continue
        seen_names.add(name)
        yield path, name, status, body
        for link in links_of(body, "http://testserver" + path):
            clean = link.split("#", 1)[0]
            if clean and clean not in queued:
                queued.add(clean)
                queue.append(clean)
