# One image for every service; the command chooses which (`jiyue serve <service>`).
FROM python:3.11-slim AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY services ./services
COPY gateway ./gateway
RUN uv sync --frozen --no-dev

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home /app jiyue
WORKDIR /app
COPY --from=build --chown=jiyue /app /app
ENV PATH=/app/.venv/bin:$PATH JIYUE_DATA_DIR=/data PYTHONUNBUFFERED=1
RUN mkdir -p /data && chown jiyue /data
USER jiyue
EXPOSE 8000 8101 8102 8103 8104
HEALTHCHECK CMD python -c "import urllib.request,os;urllib.request.urlopen('http://127.0.0.1:'+os.environ.get('PORT','8000')+'/healthz')"
CMD ["jiyue", "serve", "--host", "::", "--port", "8000", "--no-migrate"]
