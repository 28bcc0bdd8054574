# Production image: one image for web, worker and beat (the command differs per service).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY actionwave ./actionwave
COPY web ./web
COPY workers ./workers
COPY tasks ./tasks
COPY schedules ./schedules
COPY campaigns ./campaigns
RUN pip install . && useradd --system --home /app actionwave && chown -R actionwave /app
USER actionwave
EXPOSE 8000
CMD ["actionwave", "web", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]
