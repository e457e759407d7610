"""One-time messages kept in the signed session cookie until the next page shows them."""

from litestar import Request


def _session(request: Request) -> dict | None:
    session = request.scope.get("session")
    return session if isinstance(session, dict) else None  # cleared sessions are an Empty marker


def flash(request: Request, message: str, category: str = "info") -> None:
    session = _session(request)
    if session is None:
        request.set_session({})
        session = request.scope["session"]
    messages = list(session.get("flash", []))
    messages.append({"message": message, "category": category})
    session["flash"] = messages[-5:]


def pop_flashes(request: Request) -> list[dict]:
    session = _session(request)
    if not session:
        return []
    return session.pop("flash", []) or []
