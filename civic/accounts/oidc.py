"""OpenID Connect sign-in through Authlib's Starlette client, which works on Litestar requests."""

from __future__ import annotations

from authlib.integrations.starlette_client import OAuth
from litestar import Request
from litestar.response import Redirect

from civic.settings import Settings


class OidcClient:
    def __init__(self, settings: Settings) -> None:
        oauth = OAuth()
        oauth.register(
            name="civic",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            server_metadata_url=f"{settings.oidc_issuer.rstrip('/')}/.well-known/openid-configuration",
            client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
        )
        self.client = oauth.civic

    async def authorize_redirect_litestar(self, request: Request, redirect_uri: str) -> Redirect:
        rv = await self.client.create_authorization_url(redirect_uri)
        await self.client.save_authorize_data(request, redirect_uri=redirect_uri, **rv)
        return Redirect(path=rv["url"], status_code=302)

    async def claims_from_callback(self, request: Request) -> dict:
        token = await self.client.authorize_access_token(request)
        claims = dict(token.get("userinfo") or {})
        if not claims.get("email"):
            claims.update(await self.client.userinfo(token=token))
        return claims
