"""The command line: ``python -m feedsvc check [DIR]`` lints a content folder.

``check`` loads the folder exactly as the service does (through :class:`ContentStore`, with the
settings the service would read from ``FEEDSVC_*`` variables) and prints one line per problem,
``PATH:LINE: error: message`` or ``PATH:LINE: warning: message`` with PATH relative to the folder,
then a summary. Exit status: 0 when every file is an article (warnings allowed), 1 when any file
is rejected, 2 for a usage or configuration error. The group leaves room for more commands
(``export``).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import click

from feedsvc import __version__
from feedsvc.catalog import Catalog
from feedsvc.errors import ConfigError, Severity
from feedsvc.settings import Settings, settings_from_environ
from feedsvc.store import ContentStore

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2


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

    DIR defaults to FEEDSVC_CONTENT_DIR, or the bundled content folder. Exits with 1 when a
    file is rejected (it would be missing from the feeds), 0 otherwise, warnings included.
    """
    settings = _settings(directory)
    report = ContentStore(settings).reload()
    catalog = report.catalog
    for problem in catalog.problems:
        click.echo(str(problem))
    summary = CheckSummary.of(catalog)
    click.echo(summary.line())
    ctx.exit(EXIT_REJECTED if summary.rejected else EXIT_OK)


def _settings(directory: Path | None) -> Settings:
    """The service's settings from the environment, with the content folder ``directory``."""
    overrides = {} if directory is None else {"CONTENT_DIR": str(directory)}
    try:
        return settings_from_environ(os.environ, overrides)
    except ConfigError as error:
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
