"""Guards: small named checks on who may reach a handler."""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from civic.accounts.verification import Level


def current_user(connection: ASGIConnection) -> dict | None:
    return connection.scope.get("state", {}).get("user")


def signed_in(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if current_user(connection) is None:
        raise NotAuthorizedException()


def administrator(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    user = current_user(connection)
    if user is None:
        raise NotAuthorizedException()
    if not user["is_admin"]:
        raise PermissionDeniedException()


def at_least(level: Level):
    """A guard asking for a verification level (modules: sign, vote, propose)."""

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        user = current_user(connection)
        if user is None:
            raise NotAuthorizedException()
        if user["verification"] < level:
            raise PermissionDeniedException(detail=f"verification:{int(level)}")

    guard.__name__ = f"at_least_{level.name.lower()}"
    return guard
