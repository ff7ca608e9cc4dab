"""The command line (``feedsvc``, or ``python -m feedsvc``): ``check [DIR]`` lints a content
folder, ``serve`` runs the service under gunicorn with :mod:`feedsvc.gunicorn_conf`, and
``export OUTDIR`` writes the site as static files (see :mod:`feedsvc.deploy.export`).

``check`` loads the folder exactly as the service does (through :class:`ContentStore`, with the
settings the service would read from ``FEEDSVC_*`` variables) and prints one line per problem,
``PATH:LINE: error: message`` or ``PATH:LINE: warning: message`` with PATH relative to the folder,
then a summary. No file name can make a line that looks like another file's: a PATH with a
colon, a double quote, a backslash, or a control or bidirectional-formatting character is
printed in double quotes with those characters escaped (``"vals:99: error: x.txt":0: …``), and
the same characters are escaped in messages. Exit status: 0 when every file is an article
(warnings allowed), 1 when any file is rejected, 2 for a usage or configuration error, or an
error of feedsvc itself (then reported as an internal error, with its traceback).
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time
import traceback
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import TYPE_CHECKING, NoReturn

import click
from flask import Config

from feedsvc import __version__
from feedsvc.articles.store import ContentStore
from feedsvc.errors import ConfigError, ContentProblem, Severity
from feedsvc.feeds.catalog import Catalog
from feedsvc.feeds.live import LiveCatalog
from feedsvc.settings import ENV_PREFIX, Settings, server_counts

if TYPE_CHECKING:
    from feedsvc.deploy.export import SiteExporter
    from feedsvc.runtime import Runtime

log = logging.getLogger(__name__)
EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 2  # as click's usage errors: anything but a verdict on the content


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="feedsvc")
def main() -> None:
    """Publish a folder of Dutch news articles as RSS, Atom and JSON feeds."""
    # The store also logs each rejected file; check prints every problem itself, so only
    # errors of the program (not of the content) should reach the log.
    logging.basicConfig(level=logging.ERROR, format="feedsvc: %(levelname)s: %(message)s")


@main.command()
@click.argument(
    "directory",
    metavar="[DIR]",
    required=False,
    type=click.Path(exists=True, file_okay=False, dir_okay=True, path_type=Path),
)
@click.pass_context
def check(ctx: click.Context, directory: Path | None) -> None:
    """Check every article file in DIR and report the problems found.

    DIR defaults to FEEDSVC_CONTENT_DIR, or the bundled content folder. Prints one line per
    problem, PATH:LINE: error: MESSAGE or PATH:LINE: warning: MESSAGE, then a summary. A PATH
    with a colon, a double quote, a backslash, a control or a bidirectional-formatting
    character is printed in double quotes with those characters escaped (backslash escapes
    such as \\n, \\x1b, \\u202e), so no file name can pass for another line; messages escape
    the same characters.

    \b
    Exit status:
      0  every file is an article (warnings allowed)
      1  a file is rejected (it would be missing from the feeds)
      2  a usage or configuration error, or an internal error of feedsvc (a bug, reported
         as "internal error" with its traceback on stderr; the content is not to blame)
    """
    settings = _settings(directory)
    try:
        report = LiveCatalog(ContentStore(settings), settings.site_title).reload()
        catalog = report.catalog
        lines = [format_problem(problem) for problem in catalog.problems]
        summary = CheckSummary.of(catalog)
    except Exception as error:  # any bug must be told apart from bad content
        traceback.print_exc()
        click.echo(
            f"Error: internal error of feedsvc (not a problem of the content): "
            f"{type(error).__name__}: {shown_text(str(error))}",
            err=True,
        )
        ctx.exit(EXIT_INTERNAL)
    for line in lines:
        click.echo(line)
    click.echo(summary.line())
    ctx.exit(EXIT_REJECTED if summary.rejected else EXIT_OK)


# What a bare PATH may not contain: the separator, quoting and escaping characters, and
# whatever a terminal would not show as itself (controls, bidirectional and other formatting
# characters, line and paragraph separators).
_UNSAFE_IN_PATH = re.compile(r'[:"\\\s]')
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def format_problem(problem: ContentProblem) -> str:
    """``PATH:LINE: severity: message`` with PATH quoted when it must be, both escaped."""
    return (
        f"{shown_path(problem.path)}:{problem.line}: {problem.severity.value}: "
        f"{shown_text(problem.message)}"
    )


def shown_path(path: str) -> str:
    """``path`` as it is when nothing in it can mislead, else double-quoted and escaped."""
    plain = shown_text(path)
    if plain == path and not _UNSAFE_IN_PATH.search(path.replace(" ", "")):
        return path
    return '"' + shown_text(path.replace("\\", "\\\\").replace('"', '\\"')) + '"'


def shown_text(text: str) -> str:
    """``text`` with control and formatting characters escaped (\\n, \\x1b, \\u202e)."""
    return "".join(_escaped(char) for char in text)


def _escaped(char: str) -> str:
    if char == " " or unicodedata.category(char) not in _ESCAPED_CATEGORIES:
        return char
    if char == "\n":
        return "\\n"
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


@main.command(context_settings={"ignore_unknown_options": True})
@click.option(
    "--content",
    "directory",
    type=click.Path(exists=True, file_okay=False, dir_okay=True, path_type=Path),
    help="The article folder (default: FEEDSVC_CONTENT_DIR, or the bundled content).",
)
@click.argument("gunicorn_options", nargs=-1, type=click.UNPROCESSED)
def serve(directory: Path | None, gunicorn_options: tuple[str, ...]) -> None:
    """Serve the site with gunicorn, configured as feedsvc/gunicorn_conf.py says.

    Listens on FEEDSVC_BIND (default 127.0.0.1:8000) with FEEDSVC_WORKERS workers (default one
    per core); the settings come from the FEEDSVC_* variables. Other options are gunicorn's and
    are passed on, e.g. --bind unix:/run/feedsvc/gunicorn.sock or --error-logfile FILE.
    Keep gunicorn on loopback or a unix socket, behind `feedsvc nginx-proxy` (docs/deploy.md).
    """
    _settings(directory)  # a bad setting stops here, with the variable named
    try:
        server_counts(os.environ, os.cpu_count() or 2)  # as gunicorn_conf.py reads them
    except ConfigError as error:
        _invalid_configuration(error)
    environ = dict(os.environ)
    if directory is not None:
        environ[f"{ENV_PREFIX}_CONTENT_DIR"] = str(directory.resolve())
    # Otherwise the app finds its default folder itself: gunicorn imports the app from its
    # working directory first, so in a checkout that is the checkout's content/.
    command = gunicorn_command(gunicorn_options)
    # gunicorn takes this process's place: signals from a supervisor reach its master directly.
    os.execve(command[0], command, environ)


def gunicorn_command(options: Collection[str] = ()) -> list[str]:
    """The gunicorn command line ``feedsvc serve`` runs, with gunicorn ``options`` added."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:feedsvc.gunicorn_conf",
        *options,
        "feedsvc.wsgi:app",
    ]


@main.command()
@click.argument(
    "outdir", type=click.Path(file_okay=False, dir_okay=True, writable=True, path_type=Path)
)
@click.option(
    "--content",
    "directory",
    type=click.Path(exists=True, file_okay=False, dir_okay=True, path_type=Path),
    help="The article folder (default: FEEDSVC_CONTENT_DIR, or the bundled content).",
)
@click.option("--watch", is_flag=True, help="Keep the export current as the content changes.")
@click.option(
    "--listen",
    default="80",
    show_default=True,
    help="What the generated nginx server listens on, e.g. 127.0.0.1:8080.",
)
@click.option(
    "--nginx-root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the server will find OUTDIR/public, if not there (after a sync).",
)
@click.option(
    "--brotli/--no-brotli",
    default=None,
    help="Serve the .br files (brotli_static; needs libnginx-mod-http-brotli-static). "
    "Default: if that module is installed here.",
)
@click.option(
    "--sync",
    "sync_command",
    metavar="COMMAND",
    help="A shell command run after every export that wrote files (e.g. an rsync or an "
    "object-storage sync of OUTDIR/public); WebSub pings wait for it.",
)
def export(
    outdir: Path,
    *,
    directory: Path | None,
    watch: bool,
    sync_command: str | None,
    listen: str,
    nginx_root: Path | None,
    brotli: bool | None,
) -> None:
    """Write the whole site to OUTDIR/public as files, with an nginx configuration.

    Every feed (every format and page), HTML page, widget, the OPML and the static files, byte
    for byte as the service serves them, with .gz and .br siblings where they pay (not for
    article pages, which nginx compresses when asked, images or small files); the nginx
    server configuration for them is OUTDIR/nginx/feedsvc.conf. OUTDIR/public is a symbolic link
    to the current generation (OUTDIR/generations/N): each export builds a new one (unchanged
    files are hard links, only changed files are written) and switches the link in one step,
    so nginx sees the old site or the new one, never a mix. One export at a time: a second one
    on the same OUTDIR stops with a message (exit status 1). Settings come from the FEEDSVC_*
    variables, as for the service; with FEEDSVC_WEBSUB_HUB set, the hub is told about feeds
    that changed once they are written (and synced, with --sync).
    """
    from feedsvc import create_app  # noqa: PLC0415 - Flask only for the commands that use it
    from feedsvc.deploy.export import ExportError, NginxOptions, SiteExporter  # noqa: PLC0415
    from feedsvc.deploy.generations import ExportBusyError  # noqa: PLC0415

    config: dict[str, object] = {"WATCH": False}
    if f"{ENV_PREFIX}_LOG_LEVEL" not in os.environ:
        config["LOG_LEVEL"] = "WARNING"  # the export prints its own report of what it did
    if directory is not None:
        config["CONTENT_DIR"] = str(directory)
    try:
        app = create_app(config)
    except ConfigError as error:
        _invalid_configuration(error)
    options = NginxOptions(listen=listen, root=nginx_root, brotli=brotli)
    exporter = SiteExporter(app, outdir, options)
    publisher = _Publisher(exporter, sync_command, watch=watch)
    try:
        published = publisher.export()
    except (ExportError, ExportBusyError) as error:
        click.echo(f"Error: {error}", err=True)
        raise click.exceptions.Exit(EXIT_REJECTED) from None
    if watch:
        _watch_export(publisher)
    elif not published:
        raise click.exceptions.Exit(EXIT_REJECTED)
    publisher.finish()


@main.command("nginx-proxy")
@click.argument("outfile", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option(
    "--listen",
    default="80",
    show_default=True,
    help="What nginx listens on, e.g. 443 ssl behind your TLS settings, or 127.0.0.1:8080.",
)
@click.option(
    "--upstream",
    default="127.0.0.1:8000",
    show_default=True,
    help="Where gunicorn listens (FEEDSVC_BIND): unix:/PATH or a loopback HOST:PORT.",
)
def nginx_proxy(outfile: Path, *, listen: str, upstream: str) -> None:
    """Write an nginx reverse-proxy configuration for gunicorn to OUTFILE.

    nginx reads each request whole before gunicorn sees it and takes each response at once,
    so slow clients cannot hold gunicorn's workers (see docs/deploy.md). gunicorn must listen
    on loopback or a unix socket only. The server name is the host of FEEDSVC_SITE_URL.
    """
    from urllib.parse import urlsplit  # noqa: PLC0415

    from feedsvc.deploy.nginx import NginxConfigError, ProxySite, render_proxy_config  # noqa: PLC0415

    settings = _settings(None)
    site = ProxySite(
        listen=listen,
        server_name=urlsplit(settings.site_url).hostname or "_",
        upstream=upstream.removeprefix("http://"),
    )
    try:
        text = render_proxy_config(site)
    except NginxConfigError as error:
        click.echo(f"Error: {error}", err=True)
        raise click.exceptions.Exit(EXIT_USAGE) from None
    outfile.parent.mkdir(parents=True, exist_ok=True)
    outfile.write_text(text, "utf-8")
    click.echo(f"wrote {outfile}")


class _Publisher:
    """Export, then sync (``--sync``), then tell the WebSub hub: in that order, so a
    subscriber the hub sends to the feed finds the new version there."""

    def __init__(self, exporter: SiteExporter, sync_command: str | None, *, watch: bool) -> None:
        from feedsvc.websub import HubNotifier  # noqa: PLC0415

        self.exporter = exporter
        self.sync_command = sync_command
        service = exporter.service
        # Pinging when the content is read would be too early: the files are not out yet.
        service.notifier = None
        hub = service.settings.websub_hub
        self.notifier = (
            HubNotifier(hub, lock_name=f"export|{exporter.outdir.resolve()}") if hub else None
        )
        # Files written that no sync took out yet. A single export syncs in any case: a sync
        # that failed last time is made up for.
        self._unsynced = not watch
        self._unannounced: set[str] = set()  # changed feeds the hub was not told of yet

    def export(self) -> bool:
        """One export; False if the sync command failed (then the hub is not told yet; the
        next export syncs again and tells it of everything since)."""
        report = self.exporter.export()
        click.echo(report.line())
        if report.nginx_changed:
            config = self.exporter.outdir / "nginx" / "feedsvc.conf"
            click.echo(f"{config} changed: reload nginx (nginx -s reload)")
        self._unsynced |= bool(report.written or report.removed)
        self._unannounced.update(report.changed_feeds)
        if not self._unsynced:
            return True
        if self.sync_command:
            done = subprocess.run(self.sync_command, shell=True, check=False)
            if done.returncode != 0:
                click.echo(f"Error: --sync exited with {done.returncode}", err=True)
                return False
        self._unsynced = False
        if self.notifier is not None and self._unannounced:
            self.notifier.publish(sorted(self._unannounced))
        self._unannounced.clear()
        return True

    def finish(self) -> None:
        """Wait (a while) for the hub to have heard of every change."""
        if self.notifier is not None and not self.notifier.join(timeout=60):
            click.echo("Error: the WebSub hub could not be told of every change", err=True)


def prepare_to_watch(service: Runtime) -> None:
    """What ``export --watch`` does between its first export and watching.

    The first export gave every page a date, each noted in the state journal: it is merged
    into the state file now, not by the reload of the first edit, which would wait for it (the
    whole file is written: seconds at 100,000 articles). Then the heap is frozen: a
    long-running process, whose content stays out of the collector's way.
    """
    from feedsvc.runtime import freeze_heap  # noqa: PLC0415

    service.save_state()
    freeze_heap()


def export_edit(publisher: _Publisher, changed: Collection[str] | None = None) -> None:
    """What ``export --watch`` does when the content changed: reload, export, and only then
    merge the state journal into the state file if that is due, so the edit does not wait for
    the whole file to be written (seconds at 100,000 articles, once the journal has grown)."""
    from feedsvc.deploy.export import ExportError  # noqa: PLC0415
    from feedsvc.deploy.generations import ExportBusyError  # noqa: PLC0415
    from feedsvc.runtime import freeze_heap  # noqa: PLC0415

    service = publisher.exporter.service
    catalog = service.catalog
    started = time.monotonic()
    cpu = time.process_time()
    service.refresh(changed, save_state=False)
    if service.catalog is catalog:
        service.save_state_if_due()
        return
    reloaded = time.monotonic()
    try:
        publisher.export()
    except (ExportError, ExportBusyError) as error:  # the last good export stays in place
        click.echo(f"Error: {error}", err=True)
    exported = time.monotonic()
    freeze_heap()
    # The CPU seconds too: on a shared machine they vary far less than the wall time.
    log.info(
        "edit: reload %.3f s, export %.3f s, heap %.3f s, cpu %.3f s",
        reloaded - started,
        exported - reloaded,
        time.monotonic() - exported,
        time.process_time() - cpu,
    )
    service.save_state_if_due()


def edits_one_at_a_time(publisher: _Publisher) -> Callable[[Collection[str] | None], None]:
    """:func:`export_edit` for the threads of ``export --watch`` that find changes (the
    watching thread, the periodic rescan's, the timer that reloads files once quiet): each
    waits for the one before. The second of two at once would find the output folder locked
    by the first (ExportBusyError) and leave its change unexported until the next one."""
    exporting = Lock()

    def update(changed: Collection[str] | None = None) -> None:
        with exporting:
            export_edit(publisher, changed)

    return update


def _watch_export(publisher: _Publisher) -> None:
    """Re-export after every content change until interrupted (Ctrl-C or SIGTERM)."""

    service = publisher.exporter.service
    prepare_to_watch(service)
    watcher = service.watcher_for(edits_one_at_a_time(publisher))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    watcher.ensure_running()
    watcher.wait_established(timeout=60)  # so "watching" is true when it is said
    click.echo(f"watching {service.settings.content_dir}; Ctrl-C stops")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stop()


def _settings(directory: Path | None) -> Settings:
    """The service's settings from the environment, with the content folder ``directory``.

    Read as the app factory reads them (Flask's ``from_prefixed_env``), without building an app.
    """
    config = Config(root_path=os.getcwd())
    config.from_prefixed_env(ENV_PREFIX)
    if directory is not None:
        config["CONTENT_DIR"] = str(directory)
    try:
        return Settings.from_mapping(config)
    except ConfigError as error:
        _invalid_configuration(error)


def _invalid_configuration(error: ConfigError) -> NoReturn:
    """Stop with the message that names the setting, and the exit status of a usage error."""
    click.echo(f"Error: invalid configuration: {error}", err=True)
    raise click.exceptions.Exit(EXIT_USAGE) from None


@dataclass(frozen=True, slots=True)
class CheckSummary:
    """The counts on the last line of ``check``: files, articles, rejected files, warnings."""

    files: int
    articles: int
    rejected: int
    warnings: int

    @classmethod
    def of(cls, catalog: Catalog) -> CheckSummary:
        """Count a freshly loaded catalog.

        A file is counted once however many problems it has: as an article, as rejected (it
        has an error), or neither (a symbolic link, which is skipped with a warning).
        """
        problems = catalog.problems
        article_paths = {article.source_path for article in catalog.articles}
        problem_paths = {problem.path for problem in problems}
        rejected = {p.path for p in problems if p.severity is Severity.ERROR}
        warnings = sum(1 for p in problems if p.severity is Severity.WARNING)
        return cls(
            len(article_paths | problem_paths), len(catalog.articles), len(rejected), warnings
        )

    def line(self) -> str:
        """``checked 29 files: 28 articles, 1 rejected, 2 warnings``."""
        return (
            f"checked {_count(self.files, 'file')}: {_count(self.articles, 'article')}, "
            f"{self.rejected} rejected, {_count(self.warnings, 'warning')}"
        )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
