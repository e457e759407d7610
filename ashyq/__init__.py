"""The composition root: the web app, the `civic` command and the worker.

It sits above everything and may import the core (`civic`), `search` and every module; nothing
imports it back. See docs/architecture.md.
"""
