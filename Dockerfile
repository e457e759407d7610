# The Ashyq app image used by docker-compose.yml (one process; scale with replicas).
FROM python:3.11-slim

# PYTHONPATH=/app: import the packages from the source tree, beside templates/, static/, fixtures/
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    CIVIC_DATA_DIR=/data

WORKDIR /app
COPY . .
# /data is created here so a named volume mounted on it starts owned by the app user
RUN pip install . \
 && useradd --system --uid 1000 --home-dir /app ashyq \
 && mkdir -p /data \
 && chown ashyq /data

USER ashyq
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["sh", "-c", "civic migrate && exec civic serve --host 0.0.0.0 --port 8000"]
