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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pydantic import ValidationError

from notifications.audit import Format
from notifications.errors import MissingSetting, PreavisError
from streams.publish import PublishReport, import_users, publish_document
from streams.settings import Settings, load_settings


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

    check = commands.add_parser(
        "check", help="every rule of the campaign agent, and a preview per language"
    )
    check.add_argument("kind", choices=["purpose", "terms"])
    check.add_argument("file", type=Path)
    check.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="where to write the previews (default: a new folder)",
    )

    publish = commands.add_parser("publish", help="publish a purpose or a terms version")
    publish.add_argument("kind", choices=["purpose", "terms"])
    publish.add_argument("file", type=Path)
    publish.add_argument(
        "--force", action="store_true", help="publish even what the campaign agent would reject"
    )

    demo = commands.add_parser("demo", help="the whole loop on this machine")
    demo.add_argument("--exit", action="store_true", help="stop once every notice is delivered")
    demo.add_argument("--timeout", type=float, default=600.0)

    users = commands.add_parser("import-users", help="publish users from a JSON-lines file")
    users.add_argument("file", type=Path)

    campaign = commands.add_parser(
        "campaign", help="a campaign's report, or its audit export (--export FILE)"
    )
    campaign.add_argument("campaign_id")
    campaign.add_argument(
        "--export", type=Path, metavar="FILE", help="write every notice outcome and objection"
    )
    campaign.add_argument(
        "--format",
        choices=["jsonl", "csv"],
        default=None,
        help="of the export (default: csv when FILE ends with .csv, else jsonl)",
    )
    campaign.add_argument(
        "--sign-key",
        type=Path,
        metavar="KEY.pem",
        help="sign the export with this Ed25519 private key (writes FILE.sig)",
    )

    watch = commands.add_parser("watch", help="watch documents for AI-training clauses")
    watch_commands = watch.add_subparsers(dest="watch_command", required=True, metavar="ACTION")
    watch_import = watch_commands.add_parser(
        "import", help="publish archived document versions (before.md/after.md/meta.json)"
    )
    watch_import.add_argument("folder", type=Path)

    audit = commands.add_parser("audit", help="check an audit export, make a signing key")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = audit_commands.add_parser("verify", help="prove that nothing was removed or altered")
    verify.add_argument("file", type=Path)
    verify.add_argument(
        "--expect-sha256", metavar="HEX", help="the final sha256 kept apart at export time"
    )
    verify.add_argument(
        "--public-key",
        type=Path,
        metavar="PUB.pem",
        help="check the export's signature (FILE.sig) with this Ed25519 public key",
    )
    verify.add_argument(
        "--signature", type=Path, metavar="SIG", help="the signature file (default: FILE.sig)"
    )
    keygen = audit_commands.add_parser(
        "keygen", help="make an Ed25519 key pair to sign exports with"
    )
    keygen.add_argument("key", type=Path, metavar="KEY.pem", help="the private key to write")
    keygen.add_argument(
        "--public", type=Path, metavar="PUB.pem", help="the public key (default: KEY.pub.pem)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``preavis`` console script."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "kafka":
            return _kafka(args.action)
        if args.command == "audit":
            return _audit(args)
        settings = load_settings()
        if args.command == "demo":
            from streams.local.demo import run_demo

            return run_demo(settings, exit_when_done=args.exit, timeout=args.timeout)
        if args.command == "worker":
            return _worker(settings, args.loglevel)
        if args.command == "check":
            return _check(settings, args.kind, args.file, args.out)
        if args.command == "publish":
            report = asyncio.run(publish_document(settings, args.kind, args.file, force=args.force))
            return _report(report)
        if args.command == "import-users":
            return _report(asyncio.run(import_users(settings, args.file)))
        if args.command == "watch":
            from streams.watch.importer import import_folder

            print(asyncio.run(import_folder(settings, args.folder)).summary())
            return 0
        if args.command == "campaign":
            return _campaign(settings, args.campaign_id, args.export, args.format, args.sign_key)
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
    from streams.local import broker as localbroker

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
    from streams.app import changelog_specs, create_app
    from streams.logs import logging_config
    from streams.safety import refuses_to_start
    from streams.topics import TOPIC_SPECS

    settings.require_link_secret()
    if refuses_to_start(settings):  # before any connection: no broker needed to refuse
        return 1
    app = create_app(settings)
    topics = [*TOPIC_SPECS, *changelog_specs(app)]
    # in a thread of its own: asyncio.run here would leave this thread without
    # the event loop the app was built for
    with ThreadPoolExecutor(max_workers=1) as apart:
        apart.submit(asyncio.run, ensure_topics(settings, topics)).result()
        from streams.proof_retention import check_proof_retention  # alerts, never refuses

        apart.submit(asyncio.run, check_proof_retention(settings)).result()
    worker = faust.Worker(app, loglevel=loglevel, logging_config=logging_config(loglevel))
    worker.execute_from_commandline()
    return 0


def _check(settings: Settings, kind: str, path: Path, out: Path | None) -> int:
    from streams.check import check_document, write_previews

    report = check_document(settings, kind, path)
    write_previews(settings, report, out)
    print("\n".join(report.lines()), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


def _report(report: PublishReport) -> int:
    stream = sys.stderr if report.invalid else sys.stdout
    print(report.summary(), file=stream)
    return 1 if report.invalid else 0


def _campaign(
    settings: Settings,
    campaign_id: str,
    export: Path | None,
    fmt: str | None,
    sign_key: Path | None = None,
) -> int:
    from notifications.errors import TransientKafkaError
    from streams.compliance.audit_export import campaign_report, export_campaign
    from streams.failures import kafka_errors

    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    try:
        with kafka_errors():
            if export is None:
                if sign_key is not None:
                    print(
                        "preavis: --sign-key signs an export: give --export FILE", file=sys.stderr
                    )
                    return 2
                print(asyncio.run(campaign_report(settings, campaign_id)))
                return 0
            chosen: Format = (
                "csv" if (fmt or export.suffix.lower().lstrip(".")) == "csv" else "jsonl"
            )
            result = asyncio.run(
                export_campaign(settings, campaign_id, export, chosen, sign_key=sign_key)
            )
    except TransientKafkaError as exc:
        print(f"preavis: Kafka at {settings.kafka_bootstrap}: {exc}", file=sys.stderr)
        return 1
    print(result.summary(campaign_id))
    return 0


def _audit(args: argparse.Namespace) -> int:
    if args.audit_command == "keygen":
        return _audit_keygen(args.key, args.public)
    return _audit_verify(args.file, args.expect_sha256, args.public_key, args.signature)


def _audit_keygen(key: Path, public: Path | None) -> int:
    from streams.compliance.audit_signing import keygen

    pair, public_path = keygen(key, public)
    print(f"private key: {key} (mode 600: keep it with the exporter only)")
    print(f"public key: {public_path} (give it to whoever checks the exports)")
    print(f"fingerprint: {pair.fingerprint}")
    return 0


def _audit_verify(
    path: Path,
    expect_sha256: str | None,
    public_key: Path | None = None,
    signature: Path | None = None,
) -> int:
    from streams.compliance.audit_export import verify_file, what_it_proves
    from streams.compliance.audit_signing import check_file, signature_path

    if signature is not None and public_key is None:
        print("preavis: --signature is checked with --public-key PUB.pem", file=sys.stderr)
        return 2
    try:
        report = verify_file(path, expect_sha256)
    except UnicodeDecodeError as exc:
        print(
            f"{path}: FAILED: not a preavis audit file (not UTF-8: {exc.reason})", file=sys.stderr
        )
        return 1
    signed = None if public_key is None else check_file(path, public_key, signature)
    if not report.ok:
        print(f"{path}: FAILED: {report.first_error}", file=sys.stderr)
        if signed is not None and not signed.ok:
            print(f"{path}: signature FAILED too: {signed.message}", file=sys.stderr)
        return 1
    if signed is not None and not signed.ok:
        print(f"{path}: FAILED: signature: {signed.message}", file=sys.stderr)
        return 1
    print(report.summary())
    print(
        f"campaign {report.campaign_id}, exported at {report.exported_at} ({report.format}); "
        f"final sha256 {report.final_sha256}"
    )
    if signed is not None:
        print(f"signature: OK, {signed.message}")
    sig_present = (signature or signature_path(path)).exists()
    print(
        what_it_proves(expected=expect_sha256 is not None, signed=signed, sig_present=sig_present)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
