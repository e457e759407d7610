"""OpenID Connect sign-in through Authlib's Starlette client, which works on Litestar requests."""

from __future__ import annotations

import logging

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.starlette_client import OAuth
from joserfc.errors import JoseError
from litestar import Request
from litestar.response import Redirect

from civic.settings import Settings

try:  # Authlib uses httpx2 when it is installed, else httpx
    import httpx2

    NETWORK_ERRORS: tuple[type[Exception], ...] = (httpx.HTTPError, httpx2.HTTPError, OSError)
except ImportError:
    NETWORK_ERRORS = (httpx.HTTPError, OSError)

logger = logging.getLogger(__name__)


class OidcError(Exception):
    """Signing in through the provider did not work; `reason` says why, for the message shown:
    "unavailable" (provider unreachable or misconfigured), "state" (the answer does not belong
    to a sign-in this browser started), "denied" (refused at the provider), "invalid" (the
    provider's answer could not be checked)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class OidcClient:
    def __init__(self, settings: Settings) -> None:
        self.issuer = settings.oidc_issuer.rstrip("/")
        oauth = OAuth()
        oauth.register(
            name="civic",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            server_metadata_url=f"{self.issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256", "timeout": 10},
        )
        self.client = oauth.civic

    async def _metadata(self) -> dict:
        """The provider's discovery document (fetched once, then kept), checked to be the
        configured issuer's (OpenID Connect Discovery 4.3)."""
        try:
            metadata = await self.client.load_server_metadata()
        except NETWORK_ERRORS as exc:
            raise OidcError("unavailable", f"discovery document: {exc!r}") from exc
        except ValueError as exc:  # not JSON
            raise OidcError("unavailable", "discovery document is not JSON") from exc
        if str(metadata.get("issuer", "")).rstrip("/") != self.issuer or not metadata.get("authorization_endpoint"):
            self.client.server_metadata.pop("_loaded_at", None)  # fetch again next time
            logger.error("OIDC discovery document of %s names issuer %r", self.issuer, metadata.get("issuer"))
            raise OidcError("unavailable", "discovery document does not match the configured issuer")
        return metadata

    async def authorize_redirect_litestar(self, request: Request, redirect_uri: str) -> Redirect:
        """Redirect to the provider; state, nonce and PKCE verifier wait in the (encrypted) session.
        Raises OidcError("unavailable") when the provider cannot be reached."""
        await self._metadata()
        rv = await self.client.create_authorization_url(redirect_uri)
        await self.client.save_authorize_data(request, redirect_uri=redirect_uri, **rv)
        return Redirect(path=rv["url"], status_code=302)

    async def claims_from_callback(self, request: Request) -> dict:
        """Check the provider's answer and return the person's claims: those of the signed ID
        token, completed from the userinfo endpoint. Raises OidcError when anything is wrong."""
        error = request.query_params.get("error")
        if error:
            raise OidcError("denied" if error in ("access_denied", "login_required", "consent_required") else "invalid",
                            f"{error}: {request.query_params.get('error_description', '')}")
        state = request.query_params.get("state")
        if not state or not await self.client.framework.get_state_data(request.session, state):
            raise OidcError("state", "no sign-in with this state was started in this browser")
        metadata = await self._metadata()
        try:
            token = await self.client.authorize_access_token(request)
            claims = dict(token.get("userinfo") or {})  # the ID token, checked: signature, iss, aud, exp, nonce
            if not claims.get("sub"):
                raise OidcError("invalid", "no valid ID token")
            if metadata.get("userinfo_endpoint"):
                extra = dict(await self.client.userinfo(token=token))
                if str(extra.get("sub")) != str(claims["sub"]):  # OpenID Connect Core 5.3.2
                    raise OidcError("invalid", "userinfo is about another subject")
                for name, value in extra.items():
                    claims.setdefault(name, value)  # the signed ID token wins
        except MismatchingStateError as exc:
            raise OidcError("state", "state mismatch") from exc
        except NETWORK_ERRORS as exc:
            raise OidcError("unavailable", repr(exc)) from exc
        except (OAuthError, AuthlibBaseError, JoseError, ValueError, KeyError, TypeError) as exc:
            logger.warning("OIDC answer refused: %r", exc)
            raise OidcError("invalid", repr(exc)) from exc
        return claims
