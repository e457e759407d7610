"""The ASGI application for uvicorn and other servers: `ashyq.asgi:app`."""

from ashyq.app import create_app
from civic.settings import load_settings

app = create_app(load_settings())
