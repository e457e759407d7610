"""One-time messages kept in the signed session cookie until the next page shows them."""

from litestar import Request


def flash(request: Request, message: str, category: str = "info") -> None:
    messages = list(request.session.get("flash", []))
    messages.append({"message": message, "category": category})
    request.session["flash"] = messages[-5:]


def pop_flashes(request: Request) -> list[dict]:
    if "session" not in request.scope or not request.session:
        return []
    return request.session.pop("flash", []) or []
