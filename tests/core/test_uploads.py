"""Uploaded files: typed by their bytes, stored under names nobody chooses, served back safely."""

from __future__ import annotations

import dataclasses

import pytest
from litestar.exceptions import NotFoundException

from civic import uploads

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
PDF = b"%PDF-1.4\n%%EOF\n"


def test_the_type_comes_from_the_bytes_and_must_be_allowed():
    assert uploads.sniff(PNG, ("image/png", "image/jpeg")) == "image/png"
    assert uploads.sniff(PDF, ("image/png",)) is None  # a real PDF, not allowed here
    assert uploads.sniff(b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', uploads.EXTENSIONS) is None
    assert uploads.sniff(b"", uploads.EXTENSIONS) is None


def test_names_shown_to_people_are_tame():
    assert uploads.safe_name("../../etc/passwd") == "passwd"
    assert uploads.safe_name('отчёт "2026".pdf') == "2026-.pdf"
    assert uploads.safe_name("", "image") == "image"
    assert len(uploads.safe_name("a" * 300 + ".png")) == 60


def test_stored_files_come_back_only_by_their_own_names(tmp_path, settings):
    settings = dataclasses.replace(settings, data_dir=tmp_path)
    name = uploads.store(settings, "ideas", PNG, "image/png")
    assert name.endswith(".png") and uploads.stored_path(settings, "ideas", name).read_bytes() == PNG
    for bad in ("../secret_key", name + "/..", name.replace(".png", ".html"), "A" * 32 + ".png"):
        with pytest.raises(ValueError):
            uploads.stored_path(settings, "ideas", bad)

    response = uploads.file_response(settings, "ideas", name, "image/png", "my photo.png", inline=True, public=True)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == 'inline; filename="my-photo.png"'
    assert "sandbox" in response.headers["content-security-policy"]
    private = uploads.file_response(settings, "ideas", name, "image/png", "x.png", inline=False, public=False)
    assert private.headers["cache-control"] == "private, no-store"
    assert private.headers["content-disposition"].startswith("attachment;")

    # a file whose bytes changed on disk since it was checked is not served
    uploads.stored_path(settings, "ideas", name).write_bytes(b"<html><script>alert(1)</script>")
    with pytest.raises(NotFoundException):
        uploads.file_response(settings, "ideas", name, "image/png", "x.png", inline=True, public=True)
    with pytest.raises(NotFoundException):
        uploads.file_response(settings, "ideas", "0" * 32 + ".png", "image/png", "x.png", inline=True, public=True)
