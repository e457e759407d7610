"""Markdown for user text: markdown-it-py renders, nh3 keeps only harmless HTML.

The result depends on the text alone, so the texts of the pages being read (an idea's body,
its comments) are rendered once and kept (the most recently used, within a bound)."""

from functools import lru_cache

from markdown_it import MarkdownIt
from markupsafe import Markup
import nh3

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")
_ALLOWED_TAGS = {
    "p", "br", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td", "hr",
}


def render_markdown(text: str | None) -> Markup:
    text = text or ""
    if len(text) > MAX_KEPT_CHARS:
        return _render(text)
    return _render_kept(text)


#: Longer texts are rendered every time (the bound keeps at most about 1024 x 8k characters).
MAX_KEPT_CHARS = 8192


def _render(text: str) -> Markup:
    html = _md.render(text)
    # Headings from users start at h3 so they never outrank the page's own h1/h2.
    for level in (1, 2):
        html = html.replace(f"<h{level}>", "<h3>").replace(f"</h{level}>", "</h3>")
    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener ugc",
    )
    return Markup(clean)


_render_kept = lru_cache(maxsize=1024)(_render)
