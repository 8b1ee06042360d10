"""``preavis``: the command line of CONTRACT.md.

Settings are read here, once, and passed down. Every command exits 0 on
success, 1 when it did its job but refused some input or found a problem, and
2 on a usage error (argparse's convention).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from notifications.errors import PreavisError
from streams.publish import PublishReport, import_users, publish_document
from streams.settings import MissingSetting, Settings, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="preavis",
        description="Consent and transparency notices on Kafka.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    worker = commands.add_parser("worker", help="run a worker (agents and the HTTP server)")
    worker.add_argument("--loglevel", default="info")

    kafka = commands.add_parser("kafka", help="the local single-node Kafka broker")
    kafka.add_argument("action", choices=["up", "down", "status"])

    publish = commands.add_parser("publish", help="publish a purpose or a terms version")
    publish.add_argument("kind", choices=["purpose", "terms"])
    publish.add_argument("file", type=Path)

    demo = commands.add_parser("demo", help="the whole loop on this machine")
    demo.add_argument("--exit", action="store_true", help="stop once every notice is delivered")
    demo.add_argument("--timeout", type=float, default=600.0)

    users = commands.add_parser("import-users", help="publish users from a JSON-lines file")
    users.add_argument("file", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``preavis`` console script."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "kafka":
            return _kafka(args.action)
        settings = load_settings()
        if args.command == "demo":
            from streams.demo import run_demo

            return run_demo(settings, exit_when_done=args.exit, timeout=args.timeout)
        if args.command == "worker":
            return _worker(settings, args.loglevel)
        if args.command == "publish":
            return _report(asyncio.run(publish_document(settings, args.kind, args.file)))
        if args.command == "import-users":
            return _report(asyncio.run(import_users(settings, args.file)))
    except ValidationError as exc:
        print(f"preavis: invalid configuration: {_first_setting_error(exc)}", file=sys.stderr)
        return 1
    except (PreavisError, MissingSetting, OSError) as exc:
        print(f"preavis: {exc}", file=sys.stderr)
        return 1
    raise AssertionError(f"unhandled command {args.command}")


def _first_setting_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    name = "PREAVIS_" + "_".join(str(part) for part in error["loc"]).upper()
    return f"{name}: {error['msg']}"


def _kafka(action: str) -> int:
    from streams import localbroker

    if action == "up":
        print(localbroker.up())
        return 0
    if action == "down":
        print(localbroker.down())
        return 0
    running, message = localbroker.status()
    print(message)
    return 0 if running else 1


def _worker(settings: Settings, loglevel: str) -> int:
    import faust

    from streams.admin import ensure_topics
    from streams.app import create_app

    settings.require_link_secret()
    asyncio.run(ensure_topics(settings))
    app = create_app(settings)
    worker = faust.Worker(app, loglevel=loglevel)
    worker.execute_from_commandline()
    return 0


def _report(report: PublishReport) -> int:
    stream = sys.stderr if report.invalid else sys.stdout
    print(report.summary(), file=stream)
    return 1 if report.invalid else 0


if __name__ == "__main__":
    sys.exit(main())
