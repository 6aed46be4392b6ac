"""The `ketlit` command line: a thin click layer over the library.

This is the one module allowed to import harvester, index and search together. Library code
raises typed errors (index.errors); ``main`` turns them into one line on stderr and a non-zero
exit, so a user never sees a traceback (set KETLIT_DEBUG=1 to see one).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click

from index.errors import (
    ConfigError,
    HarvestError,
    KetlitError,
    LockedError,
    QueryError,
    UsageError,
    environment_error,
)
from index.settings import Settings, load_settings
from search.export import format_names as export_format_names


def _settings(ctx: click.Context) -> Settings:
    obj = ctx.find_root().ensure_object(dict)
    if "settings" not in obj:
        settings = load_settings(obj.get("config"))
        check_alert_queries(settings)
        obj["settings"] = settings
    return obj["settings"]


def check_alert_queries(settings: Settings) -> None:
    """Alert queries are parsed when the config loads: a malformed one is a config error naming
    the alert, not a surprise in the night's digest."""
    from search.query import QueryBuilder

    builder = QueryBuilder()
    for name, alert in settings.alerts.items():
        try:
            builder.build(alert.query)
        except QueryError as exc:
            raise ConfigError(f"alerts.{name}.query in {settings.config_path or 'the config'}: "
                              f"{str(exc).removeprefix('query: ')}") from exc


def _config_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """--config is accepted both as `ketlit --config X cmd` and `ketlit cmd --config X`."""

    def remember(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        if value:
            ctx.find_root().ensure_object(dict)["config"] = value

    return click.option("--config", "config", metavar="PATH", expose_value=False,
                        callback=remember, is_eager=True,
                        help="Config file (default: $KETLIT_CONFIG, else ./config.yaml).")(f)


def _filter_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The search filters shared by search, export and the web API."""
    options = [
        click.option("--topic", "topics", multiple=True, metavar="NAME",
                     help="Only records of this topic (repeatable)."),
        click.option("--from", "year_from", type=int, metavar="YEAR", help="Published in or after YEAR."),
        click.option("--to", "year_to", type=int, metavar="YEAR", help="Published in or before YEAR."),
        click.option("--type", "types", multiple=True, metavar="PUBTYPE",
                     help="Publication type, e.g. 'randomized controlled trial', review (repeatable)."),
        click.option("--lang", "languages", multiple=True, metavar="CODE",
                     help="Language code as PubMed writes it, e.g. eng (repeatable)."),
        click.option("--has-abstract", is_flag=True, help="Only records with an abstract."),
        click.option("--no-retracted", "exclude_retracted", is_flag=True,
                     help="Leave out retracted publications."),
    ]
    for opt in reversed(options):
        f = opt(f)
    return _evidence_options(f)


def _evidence_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The evidence-annotation filters (index.evidence): search, export and new."""
    from index.evidence import FACETS_BY_NAME, LABEL_FACETS

    options = [
        click.option(f"--{name}", name, multiple=True, metavar="LABEL",
                     help=f"{FACETS_BY_NAME[name].title} of the evidence annotations, e.g. "
                          f"{FACETS_BY_NAME[name].labels[0]} (repeatable: any of them).")
        for name in LABEL_FACETS]
    options.append(click.option("--min-participants", "min_participants",
                                type=click.IntRange(0), metavar="N",
                                help="Only studies of at least N people."))
    for opt in reversed(options):
        f = opt(f)
    return f


def _evidence(kwargs: dict[str, Any]) -> dict[str, Any]:
    from index.evidence import EVIDENCE_FILTER_KEYS

    return {k: kwargs.pop(k) for k in EVIDENCE_FILTER_KEYS}


def _rank_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--rank", type=click.Choice(["lexical", "hybrid"]), default=None,
                        help="lexical: BM25 only; hybrid: BM25 fused with sentence embeddings "
                             "(needs the semantic extra). Default: the config's search.rank "
                             "(lexical).")(f)


def _filters(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {**{k: kwargs.pop(k) for k in ("topics", "year_from", "year_to", "types",
                                          "languages", "has_abstract", "exclude_retracted")},
            **_evidence(kwargs)}


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option}: expected a date as YYYY-MM-DD, got {value!r}") from None


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=None))


def _quiet_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """--quiet: no progress lines (they appear only on a terminal anyway)."""

    def remember(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.find_root().ensure_object(dict)["quiet"] = True

    return click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=remember,
                        help="No progress line (shown only on a terminal anyway).")(f)


def _progress(ctx: click.Context) -> Any:
    """The progress reporter for long work: live lines on a terminal's stderr, else nothing."""
    from index.progress import progress_for

    return progress_for(sys.stderr, quiet=bool(ctx.find_root().ensure_object(dict).get("quiet")))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config", metavar="PATH",
              help="Config file (default: $KETLIT_CONFIG, else ./config.yaml).")
@click.version_option(package_name="ketlit")
@click.pass_context
def cli(ctx: click.Context, config: str | None) -> None:
    """ketlit: a local, searchable index of the PubMed literature on ketamine and esketamine."""
    obj = ctx.ensure_object(dict)
    if config:
        obj["config"] = config


@cli.command()
@_config_option
@click.option("--topic", "topics", multiple=True, metavar="NAME", help="Harvest only this topic.")
@click.option("--full", is_flag=True, help="Re-sync the whole history and reconcile removals.")
@click.option("--since", metavar="YYYY-MM-DD", help="Harvest records created or revised since.")
@click.option("--wait", is_flag=True, help="Wait for a running harvest instead of failing.")
@_quiet_option
@click.pass_context
def harvest(ctx: click.Context, topics: tuple[str, ...], full: bool, since: str | None,
            wait: bool) -> None:
    """Bring the index in step with PubMed (incremental; the first run is full)."""
    settings = _settings(ctx)
    since_date = _parse_date(since, "--since")
    from harvester.harvest import run_harvest
    from harvester.logs import FILE_ONLY, setup_logging

    # The harvest prints its own progress on a terminal; only warnings are echoed from the log.
    setup_logging(settings, stderr_level=logging.WARNING)
    log = logging.getLogger("ketlit.harvest")
    try:
        report = run_harvest(settings, topics=list(topics) or None, full=full,
                             since=since_date, wait=wait,
                             progress=_progress(ctx))
    except KetlitError as exc:  # main() prints it; the log file must say it too (cron, systemd)
        log.error("harvest %s: %s", "refused" if isinstance(exc, LockedError) else "failed", exc,
                  extra=FILE_ONLY)
        raise
    except Exception as exc:
        log.error("harvest failed with an internal error: %s: %s", type(exc).__name__, exc,
                  extra=FILE_ONLY)
        raise
    for line in report.summary_lines():
        click.echo(line)
    _digest_after_run(settings)
    if not report.ok:
        raise click.exceptions.Exit(HarvestError.exit_code)


def _digest_after_run(settings: Settings) -> None:
    """Write the run's digest; the harvest's outcome stands even if the digest cannot be made."""
    from search.digest import write_digest

    try:
        path = write_digest(settings)
    except KetlitError as exc:
        logging.getLogger("ketlit.digest").error("digest not written: %s", exc)
        click.echo(f"ketlit: digest not written: {exc}", err=True)
        return
    if path is not None:
        click.echo(f"digest: {path}")
        sent = _mail_digest(settings, path)
        if sent:
            click.echo(f"digest e-mailed to {', '.join(settings.email.to)}")


def _mail_digest(settings: Settings, path: Path | None) -> bool:
    """E-mail the digest when ``email`` is configured; a failure is logged and printed, and
    never undoes the harvest or the digest file."""
    if path is None or not settings.email.enabled:
        return False
    from search.mail import MailError, mail_digest

    log = logging.getLogger("ketlit.digest")
    try:
        mail_digest(settings.email, path)
    except MailError as exc:
        log.error("digest not e-mailed: %s", exc)
        click.echo(f"ketlit: digest not e-mailed: {exc}", err=True)
        return False
    log.info("digest %s e-mailed to %s", path.name, ", ".join(settings.email.to))
    return True



@cli.command()
@_config_option
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--topic", "topics", multiple=True, metavar="NAME", help="Tag the records with it.")
@_quiet_option
@click.pass_context
def ingest(ctx: click.Context, files: tuple[Path, ...], topics: tuple[str, ...]) -> None:
    """Add PubMed XML (.xml, .xml.gz) or MEDLINE (.nbib, .txt) files to the index."""
    from harvester.ingest import ingest_files

    report = ingest_files(_settings(ctx), list(files), topics=list(topics),
                          progress=_progress(ctx))
    for line in report.summary_lines():
        click.echo(line)


@cli.command()
@_config_option
@click.argument("query", required=False)
@_filter_options
@click.option("--match", type=click.Choice(["all", "any"]), default="all", show_default=True,
              help="all: every term required (PubMed); any: rank by any word (sentences).")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance",
              show_default=True)
@_rank_option
@click.option("--limit", type=click.IntRange(1, 10000), default=20, show_default=True)
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON described in the design.")
@click.option("--batch", "batch_file", type=click.Path(path_type=Path),
              help="Run one query per line of a 'qid<TAB>query' file.")
@click.option("--format", "batch_format", type=click.Choice(["trec", "jsonl"]), default="trec",
              show_default=True, help="Output of --batch.")
@click.pass_context
def search(ctx: click.Context, query: str | None, match: str, sort: str, rank: str | None,
           limit: int, page: int, as_json: bool, batch_file: Path | None, batch_format: str,
           **kwargs: Any) -> None:
    """Search the index with a PubMed-like query."""
    from search.hybrid import check_rank
    from search.render import render_search_text
    from search.searcher import SearchRequest, open_searcher

    filters = _filters(kwargs)
    settings = _settings(ctx)
    check_rank(rank, settings)  # hybrid without the extra: one line, before any work
    with open_searcher(settings) as searcher:
        if batch_file is not None:
            if query:
                raise UsageError("search: give either a QUERY or --batch FILE, not both")
            from search.batch import run_batch

            failed = run_batch(searcher, batch_file, match=match, rank=rank,
                               limit=limit if limit != 20 else 100, fmt=batch_format,
                               out=click.get_text_stream("stdout"), filters=filters,
                               err=click.get_text_stream("stderr"))
            if failed:
                # Every other query was answered; the exit says some were not.
                raise click.exceptions.Exit(QueryError.exit_code)
            return
        # No QUERY browses: every record passing the filters (all of them without any), newest
        # first unless --sort oldest.
        req = SearchRequest(query=query or "", match=match, sort=sort, limit=limit, page=page,
                            rank=rank, **filters)
        resp = searcher.search(req)
        if as_json:
            _echo_json(resp.to_json())
        else:
            click.echo(render_search_text(resp, color=sys.stdout.isatty()))


@cli.command()
@_config_option
@click.argument("pmid")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show(ctx: click.Context, pmid: str, as_json: bool) -> None:
    """Show one record."""
    from search.render import render_article_text
    from search.searcher import open_searcher

    with open_searcher(_settings(ctx)) as searcher:
        article = searcher.get(pmid)
    if as_json:
        _echo_json(article.to_dict())
    else:
        click.echo(render_article_text(article))


@cli.command()
@_config_option
@click.argument("pmid")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def similar(ctx: click.Context, pmid: str, limit: int, as_json: bool) -> None:
    """Records most like PMID."""
    from search.render import render_hits_text
    from search.searcher import open_searcher

    with open_searcher(_settings(ctx)) as searcher:
        resp = searcher.similar(pmid, limit=limit)
    if as_json:
        _echo_json(resp.to_json(short=True))
    else:
        click.echo(render_hits_text(resp))


@cli.command()
@_config_option
@click.option("--since", metavar="YYYY-MM-DD", help="New since this date (default: previous harvest).")
@click.option("--topic", metavar="NAME")
@_evidence_options
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def new(ctx: click.Context, since: str | None, topic: str | None, as_json: bool,
        **kwargs: Any) -> None:
    """Records new to the index since the previous harvest (or a date)."""
    from search.render import render_hits_text
    from search.searcher import open_searcher

    evidence = _evidence(kwargs)
    with open_searcher(_settings(ctx)) as searcher:
        resp = searcher.new_records(since=_parse_date(since, "--since"), topic=topic,
                                    evidence=evidence)
    if as_json:
        _echo_json(resp.to_json(short=True))
    else:
        click.echo(render_hits_text(resp))


@cli.command()
@_config_option
@click.argument("query", required=False)
@click.option("--pmids", "pmids_file", type=click.Path(path_type=Path),
              help="A file of PMIDs, one per line (or separated by spaces or commas).")
@_filter_options
@click.option("--format", "fmt", required=True, type=click.Choice(export_format_names()),
              help="Citation format.")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to FILE (default stdout).")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance")
@_rank_option
@_quiet_option
@click.pass_context
def export(ctx: click.Context, query: str | None, pmids_file: Path | None, fmt: str,
           output: Path | None, sort: str, rank: str | None, **kwargs: Any) -> None:
    """Write a citation list for reference managers."""
    from search.export import export_selection
    from search.hybrid import check_rank

    filters = _filters(kwargs)
    settings = _settings(ctx)
    check_rank(rank, settings)
    n = export_selection(settings, fmt=fmt, query=query, pmids_file=pmids_file,
                         filters=filters, sort=sort, rank=rank, output=output,
                         # Records printed on the terminal itself: a progress line would tear them.
                         progress=None if output is None and sys.stdout.isatty() else _progress(ctx))
    if output is not None:
        click.echo(f"exported {n} record(s) to {output}", err=True)


@cli.command()
@_config_option
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Counts by topic, year and publication type; the last harvest per topic."""
    settings = _settings(ctx)
    from search.stats import collect_stats, render_stats_text

    data = collect_stats(settings)
    if as_json:
        _echo_json(data)
    else:
        click.echo(render_stats_text(data))


@cli.command()
@_config_option
@click.pass_context
def schedule(ctx: click.Context) -> None:
    """Run the nightly harvest schedule in the foreground (until SIGTERM or Ctrl-C)."""
    from harvester.logs import setup_logging
    from harvester.schedule import run_schedule
    from search.digest import write_digest

    settings = _settings(ctx)
    setup_logging(settings)
    # harvester must not import search: the digest is written by a callback after each run.
    run_schedule(settings, on_run_done=lambda _report: _mail_digest(settings,
                                                                    write_digest(settings)))


@cli.command()
@_config_option
@_quiet_option
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Rebuild the search index from the harvested records (offline) and swap it in."""
    from index.catalog import reindex as rebuild

    n = rebuild(_settings(ctx), progress=_progress(ctx))
    click.echo(f"reindexed {n} record(s)")


@cli.command()
@_config_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the local web search page and JSON API."""
    from search.web.server import serve as run_server

    run_server(_settings(ctx), host=host, port=port)


def _clean_exit(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = bool(os.environ.get("KETLIT_DEBUG"))
        try:
            return func(*args, **kwargs)
        except KetlitError as exc:
            if debug:
                raise
            click.echo(f"ketlit: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("ketlit: interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            # `ketlit search ... | head`: the reader went away; nothing to report.
            sys.stderr.close()
            sys.exit(0)
        except Exception as exc:  # the one edge where anything unexpected becomes one line
            if debug:
                raise
            known = environment_error(exc)
            if known is not None:  # a full disk, a permission, a damaged file: the user's to fix
                click.echo(f"ketlit: {known}", err=True)
                sys.exit(known.exit_code)
            click.echo(f"ketlit: internal error: {type(exc).__name__}: {exc} "
                       "(run again with KETLIT_DEBUG=1 for details and report it)", err=True)
            sys.exit(70)

    return wrapper


@_clean_exit
def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="ketlit", standalone_mode=True)


if __name__ == "__main__":
    main()
