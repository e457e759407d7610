#!/usr/bin/env python3
"""Copy browser libraries from node_modules/ into static/vendor/ (committed, so serving needs no npm).

Run after `npm ci` whenever package-lock.json changes:  python3 scripts/vendor_static.py
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "static" / "vendor"

# (npm package, file inside the package, name in static/vendor/)
FILES = [
    ("htmx.org", "dist/htmx.min.js", "htmx.min.js"),
    ("axe-core", "axe.min.js", "axe.min.js"),
]


def main() -> int:
    VENDOR.mkdir(parents=True, exist_ok=True)
    versions = {}
    for package, source, target in FILES:
        package_dir = NODE_MODULES / package
        src = package_dir / source
        if not src.is_file():
            print(f"missing {src.relative_to(ROOT)}: run `npm ci` first", file=sys.stderr)
            return 1
        meta = json.loads((package_dir / "package.json").read_text(encoding="utf-8"))
        dest = VENDOR / target
        shutil.copyfile(src, dest)
        versions[target] = {
            "name": meta["name"],
            "version": meta["version"],
            "source": f"node_modules/{package}/{source}",
            "sha256": hashlib.sha256(dest.read_bytes()).hexdigest(),
        }
        print(f"{meta['name']}@{meta['version']} -> {dest.relative_to(ROOT)}")
    (VENDOR / "VERSIONS.json").write_text(json.dumps(versions, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
