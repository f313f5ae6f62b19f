"""`klaviyo-legacy-proxy serve | sandbox | check | explain | migration-plan | health | spool`."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import multiprocessing
import os
import signal
import socket
import ssl
import sys
from pathlib import Path

from aiohttp import web

from proxy import heap
from proxy.config import Settings, SettingsError, load_settings
from proxy.openapi.spec import SpecError


class StartupError(Exception):
    """The server cannot start (e.g. its port is taken): one line, no traceback."""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (SettingsError, SpecError, StartupError) as exc:
        print(f"klaviyo-legacy-proxy: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="klaviyo-legacy-proxy", description=__doc__)
    parser.add_argument("--config", type=Path, help="YAML settings file (also KLP_CONFIG)")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    # --config is also accepted after the command; SUPPRESS keeps one given before it.
    config = argparse.ArgumentParser(add_help=False)
    config.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="YAML settings file (also KLP_CONFIG)")

    serve = commands.add_parser("serve", help="run the proxy", parents=[config])
    serve.add_argument("--host")
    serve.add_argument("--port", type=str)
    serve.add_argument("--upstream", help="new-API base URL (default https://a.klaviyo.com)")
    serve.add_argument("--sandbox", action="store_true", default=None, help="serve in front of the embedded sandbox")
    serve.add_argument("--sandbox-port", type=int, default=8081, help="where the embedded sandbox is also reachable")
    serve.add_argument("--workers", type=str, help="processes sharing the port")
    serve.add_argument("--event-loop", help="auto (uvloop when installed), asyncio or uvloop")
    serve.add_argument("--log-level")
    serve.add_argument("--log-format")
    serve.add_argument("--mappings-dir")
    serve.add_argument("--tls-cert", help="serve HTTPS: certificate chain (PEM), with --tls-key")
    serve.add_argument("--tls-key", help="the certificate's private key (PEM)")
    _staging_flags(serve)
    serve.set_defaults(run=_serve)

    sandbox = commands.add_parser("sandbox", help="run the sandbox upstream alone", parents=[config])
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8081)
    sandbox.add_argument("--empty", action="store_true", help="start without the demo account")
    _staging_flags(sandbox)
    sandbox.set_defaults(run=_sandbox)

    check = commands.add_parser("check", help="validate mappings against the chart and the official spec", parents=[config])
    check.add_argument("--mappings-dir")
    check.add_argument("--spec", type=Path, help="stable OpenAPI file (default: KLAVIYO_OPENAPI_SPEC, else the packaged copy)")
    check.add_argument("--chart", type=Path, help="comparison chart text (default: the chart rows shipped with the package)")
    check.add_argument("--format", choices=("text", "markdown"), default="text", help="markdown: the coverage table only")
    check.add_argument("--write-ratelimits", action="store_true", help="first regenerate mappings/ratelimits/ from the spec")
    check.add_argument("--scopes", action="store_true", help="list the API-key scopes the mapped routes need")
    check.set_defaults(run=_check)

    explain = commands.add_parser("explain", help="print the new-API calls a legacy request becomes; sends nothing", parents=[config])
    explain.add_argument("request", help="e.g. 'GET /api/v1/metric/ABC/timeline?api_key=pk_…&count=10'")
    explain.add_argument("--data", default="", help="request body (form-encoded or JSON)")
    explain.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'")
    explain.add_argument("--format", choices=("text", "curl", "json"), default="text")
    explain.add_argument("--mappings-dir")
    explain.add_argument("--spec", type=Path, help="stable OpenAPI file (default: KLAVIYO_OPENAPI_SPEC, else the packaged copy)")
    explain.set_defaults(run=_explain)

    plan = commands.add_parser(
        "migration-plan", help="per legacy route: the new-API calls, field by field, with SDK code", parents=[config]
    )
    plan.add_argument("--used", action="store_true", help="only the routes the usage inventory (--usage) names")
    plan.add_argument("--usage", help="the inventory: a file or the URL of a running proxy's /__proxy/usage")
    plan.add_argument("--format", choices=("markdown", "json", "html"), default="markdown")
    plan.add_argument("--mappings-dir")
    plan.set_defaults(run=_migration_plan)

    health = commands.add_parser(
        "health", help="exit 0 when the proxy configured here (KLP_*, --config) answers /healthz", parents=[config]
    )
    health.set_defaults(run=_health)

    spool = commands.add_parser("spool", help="look into the delivery spool; retry or purge its dead letters", parents=[config])
    spool.add_argument("action", choices=("status", "retry-dead", "purge-dead"))
    spool.add_argument("--spool-path", help="the SQLite spool file (also KLP_SPOOL_PATH)")
    spool.set_defaults(run=_spool)
    return parser


def _staging_flags(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--sandbox-keys", help="Token=pk_…,pk_…,Token: the keys that get a sandbox account (default: any well-formed key)"
    )
    command.add_argument("--seed", action="store_true", default=None, help="fill each new sandbox account with the demo data")


_FLAGS = ("host", "port", "upstream", "sandbox", "workers", "event_loop", "log_level", "log_format", "mappings_dir",
          "tls_cert", "tls_key", "sandbox_keys")  # fmt: skip


def _settings(args: argparse.Namespace) -> Settings:
    flags = {name: getattr(args, name, None) for name in _FLAGS}
    flags["sandbox_seed"] = getattr(args, "seed", None)
    return load_settings(flags, config_file=args.config)


def _serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    # Fail here, in one line, rather than in each worker: the spec and the port. One worker
    # keeps the parsed spec; several parse their own, so then the parent only checks the files.
    _check_specs(parse=settings.workers == 1)
    tls = _tls_context(settings)
    sock = _listening_socket(settings)
    where = "embedded sandbox" if settings.sandbox else settings.upstream
    workers = f", {settings.workers} workers" if settings.workers > 1 else ""
    scheme = "https" if tls else "http"
    print(f"klaviyo-legacy-proxy on {scheme}://{settings.host}:{settings.port} → {where}{workers}", flush=True)
    for warning in settings.startup_warnings():
        print(f"klaviyo-legacy-proxy: warning: {warning}", file=sys.stderr, flush=True)
    if settings.workers == 1:
        _run_worker(settings, args.sandbox_port, sock)
        return 0
    sock.close()  # each worker binds its own (SO_REUSEPORT); this one only proved the port free
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_run_worker, args=(settings, args.sandbox_port)) for _ in range(settings.workers)]
    for process in processes:
        process.start()

    def stop_workers(*_: object) -> None:
        # SIGTERM (a container stop) reaches the parent only: pass it on, so every worker
        # drains and closes its state store rather than being orphaned.
        for process in processes:
            process.terminate()

    signal.signal(signal.SIGTERM, stop_workers)
    try:
        for process in processes:
            process.join()
    except KeyboardInterrupt:
        stop_workers()
        for process in processes:
            process.join()
    return 0


def _run_worker(settings: Settings, sandbox_port: int, sock: socket.socket | None = None) -> None:
    from proxy.app import create_app
    from proxy.logs import configure_logging

    if _uses_uvloop(settings.event_loop):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    configure_logging(settings.log_level, settings.log_format, settings.redact_pii)
    app = _with_sandbox(settings, sandbox_port) if settings.sandbox else create_app(settings)
    app.on_startup.append(heap.settle)  # last: once everything start-up builds is there
    sock = sock or _listening_socket(settings)
    web.run_app(app, sock=sock, ssl_context=_tls_context(settings), print=None, access_log=None)


def _uses_uvloop(event_loop: str) -> bool:
    """uvloop runs the loop's own bookkeeping in C: about a tenth of the CPU of every request."""
    if event_loop == "auto":
        return importlib.util.find_spec("uvloop") is not None
    return event_loop == "uvloop"


def _listening_socket(settings: Settings) -> socket.socket:
    """Bound here so that a taken port is one line, not a traceback (workers share it)."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    try:
        return socket.create_server((settings.host, settings.port), family=family, reuse_port=settings.workers > 1)
    except OSError as exc:
        raise StartupError(f"cannot listen on {settings.host}:{settings.port}: {_reason(exc)}") from None


def _check_specs(parse: bool) -> None:
    from proxy.openapi.spec import SpecError, default_spec_path, pinned_spec

    if parse:
        pinned_spec()  # the beta document is parsed where it is used (the sandbox, explain)
    for beta in (False, True):
        if not os.access(default_spec_path(beta=beta), os.R_OK):
            raise SpecError(f"OpenAPI document {default_spec_path(beta=beta)}: cannot be read")


def _reason(exc: OSError) -> str:
    return os.strerror(exc.errno) if exc.errno else str(exc)


def _tls_context(settings: Settings) -> ssl.SSLContext | None:
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(settings.tls_cert, settings.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise StartupError(f"tls_cert/tls_key: cannot load {settings.tls_cert} with {settings.tls_key}: {exc}") from None
    return context


def _staging_sandbox(settings: Settings, *, demo: bool = True):
    """The sandbox for staging: the demo account, and an account for each key the app sends."""
    from proxy.sandbox.core import Sandbox
    from proxy.sandbox.enrolment import Enrolment
    from proxy.sandbox.seed import demo_sandbox, demo_seeder

    enrolment = Enrolment(settings.sandbox_keys, demo_seeder() if settings.sandbox_seed else None)
    return demo_sandbox(enrolment=enrolment) if demo else Sandbox(enrolment=enrolment)


def _with_sandbox(settings: Settings, sandbox_port: int) -> web.Application:
    """The proxy talks to the sandbox in-process; the sandbox is also served for a look inside."""
    from proxy.app import create_app
    from proxy.sandbox.app import build_app
    from proxy.sandbox.faults import Faults, FaultyTransport
    from proxy.sandbox.transport import SandboxTransport

    sandbox, faults = _staging_sandbox(settings), Faults()  # /__sandbox/faults reaches the proxy's calls too
    app = create_app(settings, transport=FaultyTransport(SandboxTransport(sandbox), faults))

    async def sandbox_site(app: web.Application):
        runner = web.AppRunner(build_app(sandbox, faults))
        await runner.setup()
        try:
            await web.TCPSite(runner, settings.host, sandbox_port).start()
        except OSError as exc:
            await runner.cleanup()
            raise StartupError(f"sandbox: cannot listen on {settings.host}:{sandbox_port}: {_reason(exc)}") from None
        print(f"sandbox (new API) on http://{settings.host}:{sandbox_port}", flush=True)
        yield
        await runner.cleanup()

    app.cleanup_ctx.append(sandbox_site)
    return app


def _sandbox(args: argparse.Namespace) -> int:
    from proxy.sandbox.app import build_app

    flags = {"sandbox_keys": args.sandbox_keys, "sandbox_seed": args.seed}
    settings = load_settings(flags, config_file=args.config)
    sandbox = _staging_sandbox(settings, demo=not args.empty)  # stops here if the spec is unreadable
    sock = _listening_socket(Settings(host=args.host, port=args.port))
    print(f"sandbox (new API) on http://{args.host}:{args.port}", flush=True)
    web.run_app(build_app(sandbox), sock=sock, print=None)
    return 0


def _check(args: argparse.Namespace) -> int:
    from proxy.coverage import check_report, coverage_markdown
    from proxy.mapping.chart import load_chart
    from proxy.mapping.table import load_table

    settings = _settings(args)
    if args.write_ratelimits:
        _write_ratelimits(settings.mappings_dir, args.spec)
    if args.format == "markdown":
        print(coverage_markdown(load_table(settings.mappings_dir), load_chart(args.chart)))
        return 0
    if args.scopes:
        from proxy.coverage import scopes_report
        from proxy.openapi.spec import Spec, pinned_spec

        stable = Spec.load(args.spec) if args.spec else pinned_spec()
        print(scopes_report(load_table(settings.mappings_dir), stable, pinned_spec(beta=True)))
        return 0
    report = check_report(settings.mappings_dir, spec_path=args.spec, chart_path=args.chart)
    print(report.text)
    return 0 if report.ok else 1


def _write_ratelimits(mappings_dir: Path, spec_path: Path | None) -> None:
    from proxy.openapi.spec import Spec, default_spec_path
    from proxy.upstream.tiers import write_tiers

    print(f"ratelimits: wrote {write_tiers(mappings_dir, Spec.load(spec_path or default_spec_path()))}")


def _health(args: argparse.Namespace) -> int:
    """For container health checks: follows the configured port and scheme, so changing
    KLP_PORT or turning on TLS does not leave a stale probe behind."""
    import urllib.error
    import urllib.request

    settings = load_settings({}, config_file=args.config)
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else "[::1]" if settings.host == "::" else settings.host
    scheme = "https" if settings.tls_cert else "http"
    # The probe checks liveness on loopback, not the certificate (which names the public host).
    context = ssl._create_unverified_context() if settings.tls_cert else None
    try:
        with urllib.request.urlopen(f"{scheme}://{host}:{settings.port}/healthz", timeout=3, context=context) as reply:
            return 0 if reply.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"klaviyo-legacy-proxy: unhealthy: {exc}", file=sys.stderr)
        return 1


def _spool(args: argparse.Namespace) -> int:
    from proxy.backends import spool_opener
    from proxy.spool.admin import run
    from proxy.spool.records import SpoolError

    settings = load_settings({"spool_path": args.spool_path}, config_file=args.config)
    try:
        print(asyncio.run(run(args.action, spool_opener(settings, exclusive=False))))
    except SpoolError as exc:
        print(f"klaviyo-legacy-proxy: {exc}", file=sys.stderr)
        return 1
    return 0


def _explain(args: argparse.Namespace) -> int:
    from proxy.mapping.table import load_table
    from proxy.openapi.spec import Spec, default_spec_path
    from proxy.staging.explain import RENDERERS, explain

    settings = _settings(args)
    spec_path = args.spec or default_spec_path()
    method, _, target = args.request.strip().partition(" ")
    if not target:
        raise SettingsError("explain: give the request as 'METHOD /path?query'")
    headers = dict(_header(line) for line in args.header)
    explanation = asyncio.run(
        explain(load_table(settings.mappings_dir), settings, Spec.load(spec_path), method, target.strip(), args.data.encode(), headers)
    )
    print(RENDERERS[args.format](explanation))
    return 0


def _header(line: str) -> tuple[str, str]:
    name, separator, value = line.partition(":")
    if not separator:
        raise SettingsError(f"explain: --header {line!r} must look like 'Name: value'")
    return name.strip(), value.strip()


def _migration_plan(args: argparse.Namespace) -> int:
    from proxy.mapping.table import load_table
    from proxy.openapi.spec import Spec, default_spec_path
    from proxy.staging.migration import MigrationError, build_plan
    from proxy.staging.migration_render import RENDERERS

    if args.used and not args.usage:
        print("klaviyo-legacy-proxy: --used needs --usage FILE|URL (a /__proxy/usage answer)", file=sys.stderr)
        return 2
    usage = _read_usage(args.usage) if args.used else None
    settings = _settings(args)
    spec, beta = Spec.load(default_spec_path()), Spec.load(default_spec_path(beta=True))
    try:
        plans = build_plan(load_table(settings.mappings_dir), spec, beta, usage)
    except MigrationError as exc:
        print(f"klaviyo-legacy-proxy: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(RENDERERS[args.format](plans))
    return 0


def _read_usage(source: str) -> list[dict]:
    import json
    import urllib.request

    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=30) as response:  # noqa: S310 - an operator-given URL
            document = json.load(response)
    else:
        document = json.loads(Path(source).read_text(encoding="utf-8"))
    return document["routes"]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
