"""``python -m feedsvc check [DIR]``: through click's ``CliRunner``, and once as a real process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import BUNDLED_CONTENT, REPO, ArticleWriter, environment_without_settings

from feedsvc.cli import main
from feedsvc.settings import Settings

BEFORE_PUBLISHED = "the Bijgewerkt date is before the published date; using the published date"


def clean_environ(**variables: str) -> dict[str, str | None]:
    """The environment for one run: no FEEDSVC_* variable from outside, plus ``variables``."""
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    return {**unset, **variables}


def run(*args: str, **variables: str) -> Result:
    return CliRunner().invoke(main, list(args), env=clean_environ(**variables))


@pytest.fixture
def clean(write_article: ArticleWriter) -> None:
    write_article("2024/a.txt", published="1-6-2024")
    write_article("2025/b.txt", category="Sport -> Hockey")


def test_clean_folder_exits_0_with_a_summary(content_dir: Path, clean: None) -> None:
    result = run("check", str(content_dir))
    assert result.exit_code == 0
    assert result.stdout == "checked 2 files: 2 articles, 0 rejected, 0 warnings\n"
    assert result.stderr == ""


def test_broken_file_exits_1_and_names_path_and_line(
    content_dir: Path, clean: None, write_article: ArticleWriter
) -> None:
    write_article("2025/kapot.txt", published="31-02-2025")
    write_article("leeg.txt", b"")
    result = run("check", str(content_dir))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "2025/kapot.txt:6: error: invalid published date: '31-02-2025' is not a possible date "
        "(day is out of range for month)",
        "leeg.txt:1: error: the file is empty",
        "checked 4 files: 2 articles, 2 rejected, 0 warnings",
    ]


def test_warnings_are_shown_but_exit_0(
    content_dir: Path, clean: None, write_article: ArticleWriter
) -> None:
    write_article("2025/oud.txt", updated="1 januari 2025", published="12-03-2025")
    result = run("check", str(content_dir))
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"2025/oud.txt:1: warning: {BEFORE_PUBLISHED}",
        "checked 3 files: 3 articles, 0 rejected, 1 warning",
    ]


def test_errors_and_warnings_in_one_file(content_dir: Path, write_article: ArticleWriter) -> None:
    write_article("a.txt")
    write_article("b.txt", b"Titel\x07\nNieuws\n1-2-2025\n\nTekst.\n")
    write_article("c.txt", b"Titel\x07\nNieuws\n31-2-2025\n\nTekst.\n")
    result = run("check", str(content_dir))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "b.txt:1: warning: dropped control characters XML cannot carry (on 1 line(s))",
        "c.txt:3: error: invalid published date: '31-2-2025' is not a possible date "
        "(day is out of range for month)",
        "checked 3 files: 2 articles, 1 rejected, 1 warning",
    ]


def test_symbolic_link_is_reported_as_a_warning(
    content_dir: Path, clean: None, tmp_path: Path
) -> None:
    outside = tmp_path / "elders.txt"
    outside.write_text("Titel\nNieuws\n1-2-2025\n\nTekst.\n", encoding="utf-8")
    (content_dir / "link.txt").symlink_to(outside)
    result = run("check", str(content_dir))
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "link.txt:0: warning: symbolic links are not followed; copy the file instead",
        "checked 3 files: 2 articles, 0 rejected, 1 warning",
    ]


def test_empty_folder(content_dir: Path) -> None:
    result = run("check", str(content_dir))
    assert result.exit_code == 0
    assert result.stdout == "checked 0 files: 0 articles, 0 rejected, 0 warnings\n"


def test_relative_dir(content_dir: Path, clean: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(content_dir.parent)
    result = run("check", content_dir.name)
    assert result.exit_code == 0
    assert result.stdout.endswith("2 articles, 0 rejected, 0 warnings\n")


def test_nonexistent_dir_exits_2(tmp_path: Path) -> None:
    result = run("check", str(tmp_path / "bestaat-niet"))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "bestaat-niet" in result.stderr
    assert "does not exist" in result.stderr


def test_dir_that_is_a_file_exits_2(tmp_path: Path) -> None:
    file = tmp_path / "bestand.txt"
    file.write_text("x", encoding="utf-8")
    result = run("check", str(file))
    assert result.exit_code == 2
    assert "is a file" in result.stderr


def test_unknown_command_and_extra_argument_exit_2(content_dir: Path) -> None:
    assert run("controleer").exit_code == 2
    assert run("check", str(content_dir), str(content_dir)).exit_code == 2


def test_dir_defaults_to_feedsvc_content_dir(content_dir: Path, clean: None) -> None:
    result = run("check", FEEDSVC_CONTENT_DIR=str(content_dir))
    assert result.exit_code == 0
    assert result.stdout == "checked 2 files: 2 articles, 0 rejected, 0 warnings\n"


def test_dir_argument_wins_over_feedsvc_content_dir(content_dir: Path, clean: None) -> None:
    result = run("check", str(content_dir), FEEDSVC_CONTENT_DIR="/bestaat/niet")
    assert result.exit_code == 0


def test_dir_defaults_to_the_bundled_content() -> None:
    result = run("check")
    assert result.exit_code == 0, result.stdout
    count = sum(1 for _ in BUNDLED_CONTENT.rglob("*.txt"))
    summary = result.stdout.splitlines()[-1]
    assert re.fullmatch(
        rf"checked {count} files: {count} articles, 0 rejected, \d+ warnings?", summary
    )


def test_configuration_is_read_from_the_environment(
    content_dir: Path, write_article: ArticleWriter
) -> None:
    write_article("a.txt", body=("Tekst.",), disclaimer="Onze eigen slottekst.")
    write_article("b.txt", body=(), disclaimer="Onze eigen slottekst.")
    default = run("check", str(content_dir))
    assert default.stdout.splitlines()[-1].endswith("0 warnings")
    custom = run("check", str(content_dir), FEEDSVC_DISCLAIMER="Onze eigen slottekst.")
    assert custom.stdout.splitlines() == [
        "b.txt:6: warning: the article has no body text",
        "checked 2 files: 2 articles, 0 rejected, 1 warning",
    ]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FEEDSVC_PAGE_SIZE", "0"),
        ("FEEDSVC_TIMEZONE", "Europe/Amstelveen"),
        ("FEEDSVC_SITE_URL", "nieuws.example.nl"),
        ("FEEDSVC_CONTENT_DIR", "/bestaat/niet"),
        ("FEEDSVC_LOG_LEVEL", "luid"),
    ],
)
def test_invalid_configuration_exits_2(variable: str, value: str) -> None:
    result = run("check", **{variable: value})
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: invalid configuration: {variable}: ")


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.exit_code == 0
    commands = result.stdout.partition("Commands:")[2].split()
    assert {"check", "export", "serve"} <= set(commands)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FEEDSVC_PAGE_SIZE", "0"),
        ("FEEDSVC_LOG_LEVEL", "luid"),
        ("FEEDSVC_WORKERS", "abc"),
        ("FEEDSVC_WORKERS", "0"),
        ("FEEDSVC_THREADS", "1.5"),
    ],
)
def test_serve_refuses_an_invalid_setting_before_starting_gunicorn(
    variable: str, value: str
) -> None:
    result = run("serve", **{variable: value})
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: invalid configuration: {variable}: ")


GUNICORN_WITH_FEEDSVC_SETTINGS = ("-c", "python:feedsvc.gunicorn_conf", "feedsvc.wsgi:app")


@pytest.mark.parametrize(
    ("variable", "value"), [("FEEDSVC_WORKERS", "abc"), ("FEEDSVC_THREADS", "0")]
)
def test_gunicorn_with_feedsvc_settings_names_a_bad_count(
    variable: str, value: str, tmp_path: Path
) -> None:
    """gunicorn started by hand with feedsvc's settings (not by ``feedsvc serve``, which checks
    them first) stops with the variable named, not with a traceback of int()."""
    env = environment_without_settings(**{variable: value})
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--check-config", *GUNICORN_WITH_FEEDSVC_SETTINGS],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith(f"Error: invalid configuration: {variable}: ")
    ), done.stderr
    assert "Traceback" not in done.stderr


# -- a real process -----------------------------------------------------------------------------


def python_m_feedsvc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = environment_without_settings()
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def test_python_m_feedsvc_check(
    content_dir: Path, clean: None, write_article: ArticleWriter, tmp_path: Path
) -> None:
    write_article("2025/kapot.txt", b"Titel\r\nNieuws\r\n\r\n")
    done = python_m_feedsvc("check", str(content_dir), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "2025/kapot.txt:2: error: the published date (DD-MM-YYYY) is missing",
        "checked 3 files: 2 articles, 1 rejected, 0 warnings",
    ]
    assert done.stderr == ""  # the store's own log lines are not repeated

    (content_dir / "2025" / "kapot.txt").unlink()
    assert python_m_feedsvc("check", str(content_dir), cwd=tmp_path).returncode == 0

    missing = python_m_feedsvc("check", str(tmp_path / "bestaat-niet"), cwd=tmp_path)
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr


# -- settings from the environment --------------------------------------------------------------


def test_settings_are_read_as_flask_reads_them(
    content_dir: Path, write_article: ArticleWriter
) -> None:
    """Values are JSON-decoded where they are JSON (a quoted string), as Flask does."""
    write_article("a.txt", body=(), disclaimer="Onze eigen slottekst.")
    result = run(
        "check",
        FEEDSVC_CONTENT_DIR=str(content_dir),
        FEEDSVC_DISCLAIMER='"Onze eigen slottekst."',
    )
    assert result.stdout.splitlines() == [
        "a.txt:6: warning: the article has no body text",
        "checked 1 file: 1 article, 0 rejected, 1 warning",
    ]


def test_default_settings_serve_the_bundled_content() -> None:
    settings = Settings()
    assert settings.content_dir == BUNDLED_CONTENT
    assert settings.timezone.key == "Europe/Amsterdam"
