"""``check`` output cannot be forged by a file name, and a bug is not a verdict on the content.

Every line is read back with a parser written here from the documented format (PATH bare, or
double-quoted with backslash escapes), not with the code that writes it.
"""

from __future__ import annotations

import codecs
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ArticleWriter

from feedsvc.cli import main

LINE = re.compile(
    r'(?P<path>"(?:[^"\\]|\\.)*"|[^":\\\s][^":\\]*):(?P<line>\d+): (?P<severity>error|warning): '
    r"(?P<message>.*)"
)
SUMMARY = re.compile(r"checked \d+ files?: \d+ articles?, \d+ rejected, \d+ warnings?")
HOSTILE_NAMES = [
    "vals:99: error: alles kapot.txt",
    "2024/echt.txt:1: error: nep.txt",
    "omgekeerd\u202etxt.exe.txt",
    "isolaat\u2066x\u2069.txt",
    'aanhalings"teken.txt',
    "schuine\\streep.txt",
    "checked 9 files: 9 articles, 0 rejected, 0 warnings.txt",
]


def run_check(folder: Path) -> tuple[int, str, str]:
    env = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    result = CliRunner().invoke(main, ["check", str(folder)], env=env)
    return result.exit_code, result.stdout, result.stderr


def read_path(shown: str) -> str:
    if not shown.startswith('"'):
        return shown
    return codecs.decode(shown[1:-1].encode("ascii", "backslashreplace"), "unicode_escape")


def parse(output: str) -> tuple[list[tuple[str, int, str, str]], str]:
    *lines, summary = output.splitlines()
    assert SUMMARY.fullmatch(summary), summary
    parsed = []
    for text in lines:
        match = LINE.fullmatch(text)
        assert match, text
        parsed.append(
            (read_path(match["path"]), int(match["line"]), match["severity"], match["message"])
        )
    return parsed, summary


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_no_file_name_can_imitate_a_line(
    content_dir: Path, write_article: ArticleWriter, name: str
) -> None:
    write_article("2024/echt.txt")
    (content_dir / name).write_text("niet meer dan één regel\n", "utf-8")  # rejected
    code, output, _ = run_check(content_dir)
    assert code == 1
    problems, summary = parse(output)
    assert [(path, severity) for path, _, severity, _ in problems] == [(name, "error")]
    assert summary == "checked 2 files: 1 article, 1 rejected, 0 warnings"
    assert not any(ch in output for ch in "\u202e\u2066\u2069")


def test_messages_escape_what_a_terminal_would_not_show(
    content_dir: Path, write_article: ArticleWriter
) -> None:
    write_article("2024/a.txt", category="Nieuws\u202e -> \x1b[31mRood")
    write_article("2024/b.txt", published="31-02-2024\u2067")
    code, output, _ = run_check(content_dir)
    assert "\x1b" not in output
    assert not any(ch in output for ch in "\u202e\u2067")
    parse(output)
    assert code in (0, 1)


def test_an_internal_error_exits_2_and_says_so(
    content_dir: Path, write_article: ArticleWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_article("2024/a.txt")

    def broken(*_: object) -> None:
        raise RuntimeError("kapot van binnen")

    monkeypatch.setattr("feedsvc.cli.CheckSummary.of", broken)
    code, output, errors = run_check(content_dir)
    assert code == 2
    assert output == ""
    assert "internal error of feedsvc" in errors
    assert "RuntimeError: kapot van binnen" in errors


def test_rejected_content_exits_1_even_when_deep(
    content_dir: Path, write_article: ArticleWriter
) -> None:
    write_article("2024/diep.txt", category=" -> ".join(["Niveau"] * 600))
    code, output, errors = run_check(content_dir)
    assert code == 1
    assert "Traceback" not in output + errors
    problems, _ = parse(output)
    assert problems[0][:3] == ("2024/diep.txt", 3, "error")
