# syntax=docker/dockerfile:1
# The payment orchestrator image: one image, every command of `python -m service`
# (serve, migrate, reconcile, api-keys, sandbox). See compose.yaml and helm/.
#
#   docker build -t payment-orchestrator .
#   docker run --read-only --tmpfs /tmp -e DATABASE_URL=... -e REDIS_URL=... -p 8000:8000 payment-orchestrator
#
# Both stages use the same base image, pinned to the Python patch release: the virtualenv
# built in the first stage links to /usr/local/bin/python of the second. For a fully
# reproducible build, also pin the digest, from `docker buildx imagetools inspect <image>`:
#   ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:<digest>
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# ---------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv

WORKDIR /build
COPY pyproject.toml requirements.lock ./

# requirements.lock (`make lock`) pins the runtime dependencies together with the dev and
# embedded extras (pytest, mypy, hadolint, pgserver, ...). The image gets only the runtime:
# requirements.runtime.lock keeps the lock's entries, hashes unchanged, for the
# [project] dependencies of pyproject.toml and everything they pull in, found through the
# lock's "# via" annotations. Nothing is re-resolved: every version and hash comes from
# requirements.lock, and `pip check` below fails the build if the closure missed one.
RUN python - <<'PY'
import re
import tomllib
from pathlib import Path


def canon(name):
    return re.sub(r"[-_.]+", "-", name).lower()


deps = tomllib.loads(Path("pyproject.toml").read_text())["project"]["dependencies"]
needed = {canon(re.match(r"[\w.-]+", dep)[0]) for dep in deps}
blocks, parents, name = {}, {}, None
for line in Path("requirements.lock").read_text().splitlines():
    text = line.strip()
    if head := re.match(r"([\w.-]+)==", line):
        name = canon(head[1])
        blocks[name], parents[name] = [line], set()
    elif name and text.startswith("--hash="):
        blocks[name].append(line)
    elif name and text.startswith("#"):
        via = text.lstrip("#").strip().removeprefix("via").strip()
        if via and "(" not in via:  # "payment-orchestrator (pyproject.toml)": a root
            parents[name].add(canon(via))
if missing := needed - blocks.keys():
    raise SystemExit(f"not in requirements.lock: {sorted(missing)}")
while more := {n for n, via in parents.items() if via & needed} - needed:
    needed |= more
lines = [line for n in sorted(needed) for line in blocks[n]]
Path("requirements.runtime.lock").write_text("\n".join(lines) + "\n")
print(f"runtime: {len(needed)} of {len(blocks)} locked packages")
PY

ENV PATH=/opt/venv/bin:$PATH

# --require-hashes --no-deps: exactly the locked files, nothing resolved at build time.
# --only-binary=:all:: every runtime package has a wheel (asyncpg, uvloop, httptools,
# msgspec, greenlet, ... are manylinux wheels), so no compiler is installed in any stage;
# a missing wheel fails the build instead of compiling. pip and setuptools leave the venv
# once done. Bytecode is compiled here (hash-checked .pyc, independent of file times):
# the container never writes any, its root filesystem is read-only.
RUN pip install --no-cache-dir --require-hashes --no-deps --only-binary=:all: --no-compile \
        -r requirements.runtime.lock \
    && pip check \
    && pip uninstall --yes pip setuptools \
    && python -m compileall -q -f -j 0 --invalidation-mode checked-hash /opt/venv/lib

WORKDIR /app
# What `python -m service` reads at run time: the package, and for `migrate` the alembic
# config and scripts (service/ledger/migrate.py resolves both next to service/).
# pyproject.toml is not read at run time; it records the version and dependency ranges.
COPY alembic.ini pyproject.toml ./
COPY migrations ./migrations
COPY service ./service
RUN python -m compileall -q -f --invalidation-mode checked-hash service migrations \
    && chmod -R a+rX,go-w /app /opt/venv

# ---------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}

ARG PYTHON_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="payment-orchestrator" \
      org.opencontainers.image.description="One normalized API over several payment providers, with a PostgreSQL ledger." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/${PYTHON_IMAGE}"

# A fixed numeric uid/gid (Kubernetes runAsNonRoot checks numbers), no login shell, no
# home directory: nothing in the image is writable by it, /tmp is the only place to write.
RUN groupadd --gid 10001 app \
    && useradd --uid 10001 --gid 10001 --no-log-init --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin app

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app

# HOST/PORT/WORKERS: how `serve` listens (service/settings.py, load_server_settings).
ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    WORKERS=1

WORKDIR /app
USER 10001:10001
EXPOSE 8000

# No curl or wget in the image: the standard library asks /health/live (any non-2xx or
# connection error exits non-zero).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/health/live', timeout=3)"]

ENTRYPOINT ["python", "-m", "service"]
CMD ["serve"]
