"""The layers import one way: articles <- feeds <- runtime <- web <- deploy <- cli.

Read from the source with ``ast`` (every import statement, lazy ones in functions included), so
the rule holds for code paths no other test runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "feedsvc"
FRAMEWORKS = ("flask", "werkzeug", "jinja2", "gunicorn")

_BEYOND_THE_DOCUMENT = (
    "feedsvc.__version__",
    "feedsvc.settings",
    "feedsvc.errors",
    "feedsvc.articles",
    "feedsvc.feeds.builder",
    "feedsvc.feeds.catalog",
    "feedsvc.feeds.compression",
    "feedsvc.feeds.live",
    "feedsvc.feeds.publication",
    "feedsvc.feeds.urls",
    "feedsvc.web",
    "feedsvc.deploy",
    "feedsvc.runtime",
    "feedsvc.websub",
    "feedsvc.cli",
)

# Module (or folder) -> the feedsvc modules and folders it must never import, and whether it may
# import a web framework.
RULES: dict[str, tuple[tuple[str, ...], bool]] = {
    "feedsvc.errors": (("feedsvc.",), False),
    "feedsvc.settings": (
        ("feedsvc.feeds", "feedsvc.web", "feedsvc.deploy", "feedsvc.runtime"),
        False,
    ),
    "feedsvc.articles": (
        (
            "feedsvc.feeds",
            "feedsvc.web",
            "feedsvc.deploy",
            "feedsvc.runtime",
            "feedsvc.websub",
            "feedsvc.cli",
        ),
        False,
    ),
    # Writers turn a resolved document into bytes: nothing of settings, URL layout, the catalog,
    # the articles or the package root (its version comes in the document).
    "feedsvc.feeds.writers": (_BEYOND_THE_DOCUMENT, False),
    "feedsvc.feeds.document": ((*_BEYOND_THE_DOCUMENT, "feedsvc.feeds.writers"), False),
    "feedsvc.feeds": (
        ("feedsvc.web", "feedsvc.deploy", "feedsvc.runtime", "feedsvc.websub", "feedsvc.cli"),
        False,
    ),
    "feedsvc.runtime": (("feedsvc.web", "feedsvc.deploy", "feedsvc.cli"), False),
    "feedsvc.websub": (("feedsvc.web", "feedsvc.deploy", "feedsvc.cli", "feedsvc.feeds"), False),
    "feedsvc.web": (("feedsvc.deploy", "feedsvc.cli"), True),
    "feedsvc.deploy": (("feedsvc.cli",), True),
    # What gunicorn loads: the app and its server settings, beside the CLI at the top.
    "feedsvc.wsgi": (("feedsvc.deploy", "feedsvc.cli"), True),
    "feedsvc.gunicorn_conf": (("feedsvc.deploy", "feedsvc.cli"), True),
}


def _module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text("utf-8"), str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            assert node.level == 0, f"{path}:{node.lineno}: use absolute imports"
            # "from feedsvc import web" imports feedsvc.web: count the names as modules too.
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _rule_for(module: str) -> tuple[tuple[str, ...], bool] | None:
    for prefix, rule in RULES.items():
        if module == prefix or module.startswith(prefix + "."):
            return rule
    return None


def _violations(root: Path) -> list[str]:
    """One line per offending import statement: ``path:line: module imports name``."""
    problems: dict[tuple[str, int], str] = {}
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        rule = _rule_for(module)
        if rule is None:
            continue
        banned, frameworks_allowed = rule
        where = str(path.relative_to(root.parent))
        for line, imported in _imports(path):
            wrong_layer = any(_within(imported, banned_prefix) for banned_prefix in banned)
            framework = imported.partition(".")[0] in FRAMEWORKS and not frameworks_allowed
            if wrong_layer or framework:
                problems.setdefault((where, line), f"{where}:{line}: {module} imports {imported}")
    return list(problems.values())


def _within(module: str, prefix: str) -> bool:
    """Whether ``module`` is ``prefix`` or inside it; ``feedsvc.`` stands for any feedsvc module."""
    if prefix.endswith("."):
        return module.startswith(prefix)
    return module == prefix or module.startswith(prefix + ".")


def test_every_module_has_a_layer() -> None:
    unplaced = [
        _module_name(p)
        for p in PACKAGE.rglob("*.py")
        if _rule_for(_module_name(p)) is None
        and _module_name(p) not in {"feedsvc", "feedsvc.__main__", "feedsvc.cli"}
    ]
    assert unplaced == []


def test_imports_go_one_way() -> None:
    assert _violations(PACKAGE) == []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("feeds/catalog.py", "from flask import Flask\n"),
        ("feeds/catalog.py", "def f():\n    import werkzeug.http\n"),
        ("articles/parser.py", "from feedsvc.feeds.catalog import Catalog\n"),
        ("articles/store.py", "from feedsvc import feeds\n"),
        ("feeds/writers/rss.py", "from feedsvc.web import routes\n"),
        ("feeds/writers/rss.py", "from feedsvc.settings import Settings\n"),
        ("feeds/writers/atom.py", "from feedsvc.feeds.urls import feed_path\n"),
        ("feeds/writers/common.py", "from feedsvc import __version__\n"),
        ("feeds/document.py", "from feedsvc.feeds.catalog import FeedPage\n"),
        ("web/routes.py", "from feedsvc.deploy import export\n"),
        ("errors.py", "from feedsvc.articles.model import Article\n"),
    ],
)
def test_a_wrong_way_import_is_caught(tmp_path: Path, module: str, source: str) -> None:
    """The check itself can fail: a copy of the package with one wrong import is refused."""
    root = tmp_path / "feedsvc"
    target = root / module
    target.parent.mkdir(parents=True)
    target.write_text(source, "utf-8")
    problems = _violations(root)
    assert len(problems) == 1
    assert problems[0].startswith(f"feedsvc/{module}:")
