# The Zhibiao API. The library is seeded into the configured store on first start.
FROM python:3.11-slim
WORKDIR /app
# the whole build context (minus .dockerignore): every package pyproject.toml names is in it
COPY . /src
RUN pip install --no-cache-dir /src && rm -rf /src
ENV ZHIBIAO_HOST=0.0.0.0 ZHIBIAO_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --retries=5 CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"
CMD ["zhibiao", "serve"]
