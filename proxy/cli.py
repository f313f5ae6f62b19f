"""`klaviyo-legacy-proxy serve | sandbox | check`."""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
from pathlib import Path

from aiohttp import web

from proxy.config import Settings, SettingsError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except SettingsError as exc:
        print(f"klaviyo-legacy-proxy: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="klaviyo-legacy-proxy", description=__doc__)
    parser.add_argument("--config", type=Path, help="YAML settings file (also KLP_CONFIG)")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the proxy")
    serve.add_argument("--host")
    serve.add_argument("--port", type=str)
    serve.add_argument("--upstream", help="new-API base URL (default https://a.klaviyo.com)")
    serve.add_argument("--sandbox", action="store_true", default=None, help="serve in front of the embedded sandbox")
    serve.add_argument("--sandbox-port", type=int, default=8081, help="where the embedded sandbox is also reachable")
    serve.add_argument("--workers", type=str, help="processes sharing the port")
    serve.add_argument("--event-loop", help="asyncio or uvloop")
    serve.add_argument("--log-level")
    serve.add_argument("--log-format")
    serve.add_argument("--mappings-dir")
    serve.set_defaults(run=_serve)

    sandbox = commands.add_parser("sandbox", help="run the sandbox upstream alone")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8081)
    sandbox.add_argument("--empty", action="store_true", help="start without demo data")
    sandbox.set_defaults(run=_sandbox)

    check = commands.add_parser("check", help="validate mappings against the chart and the official spec")
    check.add_argument("--mappings-dir")
    check.add_argument("--spec", type=Path, help="stable OpenAPI file (default: KLAVIYO_OPENAPI_SPEC, else the packaged copy)")
    check.add_argument("--chart", type=Path, help="comparison chart text (default: the chart rows shipped with the package)")
    check.add_argument("--format", choices=("text", "markdown"), default="text", help="markdown: the coverage table only")
    check.add_argument("--write-ratelimits", action="store_true", help="first regenerate mappings/ratelimits/ from the spec")
    check.set_defaults(run=_check)

    explain = commands.add_parser("explain", help="print the new-API calls a legacy request becomes; sends nothing")
    explain.add_argument("request", help="e.g. 'GET /api/v1/metric/ABC/timeline?api_key=pk_…&count=10'")
    explain.add_argument("--data", default="", help="request body (form-encoded or JSON)")
    explain.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'")
    explain.add_argument("--format", choices=("text", "curl", "json"), default="text")
    explain.add_argument("--mappings-dir")
    explain.add_argument("--spec", type=Path, help="stable OpenAPI file (default: KLAVIYO_OPENAPI_SPEC, else the packaged copy)")
    explain.set_defaults(run=_explain)

    spool = commands.add_parser("spool", help="look into the delivery spool; retry or purge its dead letters")
    spool.add_argument("action", choices=("status", "retry-dead", "purge-dead"))
    spool.add_argument("--spool-path", help="the SQLite spool file (also KLP_SPOOL_PATH)")
    spool.set_defaults(run=_spool)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    flags = {
        name: getattr(args, name, None)
        for name in ("host", "port", "upstream", "sandbox", "workers", "event_loop", "log_level", "log_format", "mappings_dir")
    }
    return load_settings(flags, config_file=args.config)


def _serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    where = "embedded sandbox" if settings.sandbox else settings.upstream
    workers = f", {settings.workers} workers" if settings.workers > 1 else ""
    print(f"klaviyo-legacy-proxy on http://{settings.host}:{settings.port} → {where}{workers}", flush=True)
    if settings.workers == 1:
        _run_worker(settings, args.sandbox_port)
        return 0
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_run_worker, args=(settings, args.sandbox_port)) for _ in range(settings.workers)]
    for process in processes:
        process.start()
    try:
        for process in processes:
            process.join()
    except KeyboardInterrupt:
        for process in processes:
            process.terminate()
    return 0


def _run_worker(settings: Settings, sandbox_port: int) -> None:
    from proxy.app import create_app
    from proxy.logs import configure_logging

    if settings.event_loop == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    configure_logging(settings.log_level, settings.log_format, settings.redact_pii)
    app = _with_sandbox(settings, sandbox_port) if settings.sandbox else create_app(settings)
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None, reuse_port=settings.workers > 1)


def _with_sandbox(settings: Settings, sandbox_port: int) -> web.Application:
    """The proxy talks to the sandbox in-process; the sandbox is also served for a look inside."""
    from proxy.app import create_app
    from proxy.sandbox.app import build_app
    from proxy.sandbox.seed import demo_sandbox
    from proxy.sandbox.transport import SandboxTransport

    sandbox = demo_sandbox()
    app = create_app(settings, transport=SandboxTransport(sandbox))

    async def sandbox_site(app: web.Application):
        runner = web.AppRunner(build_app(sandbox))
        await runner.setup()
        await web.TCPSite(runner, settings.host, sandbox_port).start()
        print(f"sandbox (new API) on http://{settings.host}:{sandbox_port}", flush=True)
        yield
        await runner.cleanup()

    app.cleanup_ctx.append(sandbox_site)
    return app


def _sandbox(args: argparse.Namespace) -> int:
    from proxy.sandbox.app import build_app
    from proxy.sandbox.core import Sandbox
    from proxy.sandbox.seed import demo_sandbox

    sandbox = Sandbox() if args.empty else demo_sandbox()
    print(f"sandbox (new API) on http://{args.host}:{args.port}", flush=True)
    web.run_app(build_app(sandbox), host=args.host, port=args.port, print=None)
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
    report = check_report(settings.mappings_dir, spec_path=args.spec, chart_path=args.chart)
    print(report.text)
    return 0 if report.ok else 1


def _write_ratelimits(mappings_dir: Path, spec_path: Path | None) -> None:
    from proxy.openapi.spec import Spec, default_spec_path
    from proxy.upstream.tiers import write_tiers

    print(f"ratelimits: wrote {write_tiers(mappings_dir, Spec.load(spec_path or default_spec_path()))}")


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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
