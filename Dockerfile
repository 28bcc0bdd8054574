# Production image: one image for web, worker, beat and the release step (the command differs).
# Dependencies are the exact versions of requirements.lock (`make lock` regenerates it).
FROM python:3.11.7-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY actionwave ./actionwave
COPY web ./web
COPY workers ./workers
COPY tasks ./tasks
COPY schedules ./schedules
COPY campaigns ./campaigns
# --no-deps: nothing beyond the lock; pip check fails the build if the lock is out of date.
RUN pip install --no-deps . && pip check \
    && useradd --system --home /app actionwave && mkdir -p instance && chown -R actionwave /app
USER actionwave
EXPOSE 8000
CMD ["actionwave", "web", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]
