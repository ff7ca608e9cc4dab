"""Categories and sources keep their hash (a catalog build looks them up several times per
article); a copy made in another process, where strings hash otherwise, must hash as that
process's own values do."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

from conftest import REPO

from feedsvc.articles.model import Category, Source

# Unpickles what it is given, and looks each value up in a dict of values made afresh there.
CHILD = """
import pickle, sys
from feedsvc.articles.model import Category, Source
category, source = pickle.loads(sys.stdin.buffer.read())
found = {Category(("Nieuws", "Verkeer")): "c", Source("NAVO"): "s"}
print(found.get(category), found.get(source), hash(category) == hash(Category(category.names)))
"""


def test_equal_values_hash_alike() -> None:
    assert hash(Category(("Nieuws", "Verkeer"))) == hash(Category(("Nieuws", "Verkeer")))
    assert hash(Source("NAVO")) == hash(Source("NAVO"))
    assert {Category(("Nieuws",)): 1}[Category(("Nieuws",))] == 1
    assert Category(("Nieuws",)) != Category(("Sport",))


def test_unpickled_in_another_process_they_hash_as_its_own_values() -> None:
    data = pickle.dumps((Category(("Nieuws", "Verkeer")), Source("NAVO")))
    for seed in ("1", "2"):  # at least one differs from this process's hashing of strings
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)}
        child = subprocess.run(
            [sys.executable, "-c", CHILD], input=data, capture_output=True, env=env, check=True
        )
        assert child.stdout.decode().split() == ["c", "s", "True"]
