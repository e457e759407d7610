"""The ASGI application for uvicorn and other servers: `civic.asgi:app`."""

from civic.app import create_app
from civic.settings import load_settings

app = create_app(load_settings())
