# The one image for the API, the scheduler and the migration job.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv
RUN pip install --no-cache-dir 'uv>=0.5'
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY service ./service
COPY pathway ./pathway
COPY alerts ./alerts
RUN uv sync --locked --no-dev
ENV PATH=/opt/venv/bin:$PATH
RUN useradd --system --uid 10001 mhf
USER mhf
EXPOSE 8000
CMD ["mhf", "serve", "--host", "0.0.0.0", "--port", "8000"]
