"""User Markdown to safe HTML: markdown-it-py renders (raw HTML off), nh3 sanitises.

Two locks rather than one: markdown-it never passes raw HTML through, and nh3 keeps only an
allow-list of tags and attributes and drops every URL scheme but http, https and mailto, so no
script, event handler, `javascript:` link or style reaches a page. No Django import.
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("strikethrough")

ALLOWED_TAGS = {
    "p", "br", "em", "strong", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}

# @handle: letters, digits, dots, hyphens, underscores (a participant's handle, see handle_of).
MENTION = re.compile(r"(?<![\w@])@([\w][\w.\-]*[\w]|[\w])", re.UNICODE)


def render(text: str) -> str:
    """Markdown source to sanitised HTML."""
    html = _md.render(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )


def mentions(text: str) -> set[str]:
    """The handles mentioned in a text, lower-cased."""
    return {m.group(1).lower() for m in MENTION.finditer(text)}
