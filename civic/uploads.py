"""Files people upload (an idea's images, an appeal's attachments), for every module alike.

A file's type is read from its first bytes, never from its name or the browser's word; it is
stored under a random name in ``var/uploads/<folder>/`` and served back only after its bytes are
checked again, with headers that keep a browser from running it (nosniff, a sandboxing CSP).
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Iterable

from litestar import Response
from litestar.exceptions import NotFoundException

from civic.settings import Settings

__all__ = ["EXTENSIONS", "sniff", "safe_name", "store", "stored_path", "file_response"]

#: The types an upload may have, with the extension it is stored under. SVG and HTML are never
#: accepted: they can carry scripts.
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
              "application/pdf": "pdf"}


def _type_of(data: bytes) -> str | None:
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:5] == b"%PDF-":
        return "application/pdf"
    return None


def sniff(data: bytes, allowed: Iterable[str]) -> str | None:
    """The file's type from its first bytes, if it is one of ``allowed``."""
    found = _type_of(data)
    return found if found in set(allowed) else None


def safe_name(filename: str, default: str = "file") -> str:
    """A file name fit for messages and Content-Disposition: ASCII letters, digits, dots and
    dashes, at most 60 characters, no path."""
    name = Path(filename or default).name
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-") or default
    return name[:60]


def store(settings: Settings, folder: str, data: bytes, content_type: str) -> str:
    """Write the file under a random name in the module's folder; returns that name."""
    directory = settings.uploads_dir / folder
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{EXTENSIONS[content_type]}"
    (directory / name).write_bytes(data)
    return name


_STORED_NAME = re.compile(r"[0-9a-f]{32}\.(%s)" % "|".join(sorted(set(EXTENSIONS.values()))))


def stored_path(settings: Settings, folder: str, stored_name: str) -> Path:
    """Where a stored file is; ValueError for anything but a name :func:`store` gives (no
    path can be smuggled in)."""
    if not _STORED_NAME.fullmatch(stored_name):
        raise ValueError("not a stored file name")
    return settings.uploads_dir / folder / stored_name


def file_response(settings: Settings, folder: str, stored_name: str, content_type: str, filename: str, *,
                  inline: bool, public: bool) -> Response:
    """The stored file, if its bytes are still of the recorded type (404 otherwise), with headers
    that keep a browser from sniffing, running or framing it."""
    try:
        data = stored_path(settings, folder, stored_name).read_bytes()
    except (OSError, ValueError):
        raise NotFoundException() from None
    if _type_of(data) != content_type:
        raise NotFoundException()
    headers = {"x-content-type-options": "nosniff",
               "content-disposition": f'{"inline" if inline else "attachment"}; filename="{safe_name(filename)}"',
               "cache-control": "public, max-age=86400" if public else "private, no-store",
               "content-security-policy": "default-src 'none'; sandbox"}
    return Response(data, media_type=content_type, headers=headers)
