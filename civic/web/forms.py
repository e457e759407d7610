"""Small helpers for HTML forms: read fields, collect translated errors, keep what was typed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Request


@dataclass
class FormErrors:
    errors: dict[str, str] = field(default_factory=dict)

    def add(self, field_name: str, message: str) -> None:
        self.errors.setdefault(field_name, message)

    def __bool__(self) -> bool:
        return bool(self.errors)


async def form_data(request: Request) -> dict[str, Any]:
    form = await request.form()
    data: dict[str, Any] = {}
    for key in form.keys():
        values = form.getall(key)
        data[key] = values[0] if len(values) == 1 else values
    data.pop("_csrf_token", None)
    return data


def text(data: dict, name: str, max_length: int = 10_000) -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        value = ""
    return value.strip()[:max_length]


def integer(data: dict, name: str) -> int | None:
    try:
        return int(str(data.get(name, "")).strip())
    except ValueError:
        return None


def safe_next(value: str | None, default: str = "/") -> str:
    """Only local paths, so a crafted link cannot send people elsewhere after sign-in."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default
