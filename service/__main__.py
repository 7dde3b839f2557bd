"""Command line: serve | migrate | reconcile | api-keys create | sandbox | dev | openapi."""

import argparse
import asyncio
import math
import os
import sys
from pathlib import Path

import uvicorn

from service.dev import ALL_SCOPES, create_key, revoke_key, run_dev, sandbox_app
from service.settings import Settings, SettingsError, load_server_settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
DEV_DIR = ROOT / ".dev"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default=None, help="default: HOST, else 127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default: PORT, else 8000")
    serve.add_argument("--workers", type=int, default=None, help="default: WORKERS, else 1")
    sub.add_parser("migrate", help="apply database migrations (DATABASE_URL)")
    reconcile = sub.add_parser(
        "reconcile", help="settle payments left in doubt, in a loop (safe with many replicas)"
    )
    reconcile.add_argument("--once", action="store_true", help="one pass, then exit")
    keys = sub.add_parser("api-keys", help="manage API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key; prints it alone on the last line")
    create.add_argument("--name", required=True)
    create.add_argument("--scope", action="append", required=True, choices=ALL_SCOPES)
    create.add_argument("--rate-limit-per-second", type=float, default=None)
    create.add_argument("--rate-limit-burst", type=int, default=None)
    revoke = keys_sub.add_parser(
        "revoke", help="revoke a key (refused everywhere within API_KEY_CACHE_SECONDS)"
    )
    revoke.add_argument("key_id", help="the key's id (key_…), as `create` printed it")
    sandbox = sub.add_parser("sandbox", help="run a provider simulator")
    sandbox.add_argument(
        "--provider", default="bizon", choices=["bizon", "paysuper", "proxy_solutions", "send2sell"]
    )
    sandbox.add_argument("--webhook-url", default=None, help="paysuper: where to deliver")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8101)
    sandbox.add_argument(
        "--public-url", default=None, help="where browsers reach it (default http://HOST:PORT)"
    )
    sub.add_parser("dev", help="everything for a local demo: databases, sandbox, service, a key")
    spec = sub.add_parser("openapi", help="write the OpenAPI document")
    spec.add_argument("--output", default="-")
    return parser


def _env_settings() -> Settings:
    try:
        return load_settings(os.environ)
    except SettingsError as exc:
        sys.exit(str(exc))


def cmd_serve(args: argparse.Namespace) -> None:
    # Fail fast with a clear message before uvicorn starts workers.
    settings = _env_settings()
    try:
        server = load_server_settings(os.environ, settings)
    except SettingsError as exc:
        sys.exit(str(exc))
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=args.host or server.host,
        port=args.port or server.port,
        workers=args.workers or server.workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=math.ceil(server.shutdown_timeout_seconds),
    )


def cmd_reconcile(args: argparse.Namespace) -> None:
    from service.app import run_reconciler

    host = os.environ.get("HOST") or "127.0.0.1"  # where its /metrics listens, if it does
    asyncio.run(run_reconciler(_env_settings(), once=args.once, metrics_host=host))


def cmd_migrate(_: argparse.Namespace) -> None:
    from service.ledger.migrate import upgrade

    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("DATABASE_URL is required")
    upgrade(url)
    print("migrations applied")


def cmd_api_keys(args: argparse.Namespace) -> None:
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("DATABASE_URL is required")
    if args.keys_command == "revoke":
        if not asyncio.run(revoke_key(url, args.key_id)):
            sys.exit(f"no live key {args.key_id}")
        print(f"revoked {args.key_id}")
        return
    secret = asyncio.run(
        create_key(url, args.name, args.scope, args.rate_limit_per_second, args.rate_limit_burst)
    )
    print(secret)


def cmd_sandbox(args: argparse.Namespace) -> None:
    public_url = args.public_url or f"http://{args.host}:{args.port}"
    app = sandbox_app(args.provider, public_url.rstrip("/"), args.webhook_url)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


def cmd_openapi(args: argparse.Namespace) -> None:
    from service.openapi import render

    text = render()
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
        print(f"wrote {args.output}")


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "dev":
        run_dev(DEV_DIR)
        return
    handlers = {
        "serve": cmd_serve,
        "migrate": cmd_migrate,
        "reconcile": cmd_reconcile,
        "api-keys": cmd_api_keys,
        "sandbox": cmd_sandbox,
        "openapi": cmd_openapi,
    }
    handlers[args.command](args)


if __name__ == "__main__":
    main()
