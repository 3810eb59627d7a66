# syntax=docker/dockerfile:1
# imagesearch's image: the web server, the Celery worker and beat all run from it (compose.yaml says which).
#   docker build -t imagesearch .                                                       # CPU-only PyTorch
#   docker build -t imagesearch:cuda --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128 .
# Versions come from requirements.lock (the versions CI tests); torch and torchvision from TORCH_INDEX_URL.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# The venv sits where the Procfile expects it (.venv/bin/...), so the services run the Procfile's own commands.
RUN python -m venv .venv
COPY requirements*.txt requirements.lock ./
RUN .venv/bin/pip install --index-url "$TORCH_INDEX_URL" $(grep -E '^torch(vision)?==' requirements.lock) \
 && .venv/bin/pip install -r requirements.txt -r requirements-captions.txt -r requirements-web.txt -r requirements-s3.txt \
      -c requirements.lock
COPY . .
# Static files are collected into the image; nothing here needs a database or a broker.
RUN SECRET_KEY=collectstatic-only IMAGESEARCH_ENV_FILE=/dev/null \
    DATABASE_URL=postgres://build@127.0.0.1:1/build REDIS_URL=redis://127.0.0.1:1/0 \
    .venv/bin/python manage.py collectstatic --noinput --verbosity 0

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 PORT=8000 LOG_FORMAT=json \
    MEDIA_ROOT=/app/var/media
RUN useradd --system --uid 10001 --user-group --home-dir /app imagesearch
WORKDIR /app
COPY --from=build /app /app
# Code and venv stay root's (read-only to the server); var/ (media, metrics, beat's schedule) is the user's.
RUN mkdir -p var/media var/metrics /models && chown imagesearch:imagesearch var var/media var/metrics /models
USER imagesearch
VOLUME ["/app/var/media"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=15s --start-period=120s --retries=3 \
    CMD [".venv/bin/python", "-m", "imagesearch.healthcheck"]
CMD [".venv/bin/gunicorn", "-c", "python:imagesearch.gunicorn", "imagesearch.asgi:application"]
