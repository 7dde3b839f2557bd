# Placeholder until the deployment issue (#7): a plain image that runs the service.
# Not built in CI here (no Docker engine); #7 adds the multi-stage, hadolint-checked one.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.lock pyproject.toml alembic.ini ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY service ./service
COPY migrations ./migrations
USER 10001
EXPOSE 8000
ENTRYPOINT ["python", "-m", "service"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
