"""Rendering pages: the whole page, or only the named block when htmx asks for a fragment."""

from __future__ import annotations

from typing import Any

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Request
from litestar.response import Redirect, Template

from civic.web.flash import pop_flashes


def page(request: Request, template_name: str, context: dict[str, Any] | None = None, *,
         status_code: int = 200, block: str | None = None) -> Template:
    context = dict(context or {})
    context.setdefault("flashes", pop_flashes(request))
    if block and request.headers.get("hx-request") == "true" and request.headers.get("hx-boosted") != "true":
        return HTMXBlockTemplate(template_name=template_name, block_name=block, context=context, status_code=status_code)
    return Template(template_name=template_name, context=context, status_code=status_code)


def see_other(path: str) -> Redirect:
    """After a successful form post, redirect so a reload does not post twice."""
    return Redirect(path=path, status_code=303)
