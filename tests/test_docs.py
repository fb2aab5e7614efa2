"""The README is a front door: short, every link in it and in the docs
pages it links resolves, and every docs page is reachable from it."""

import re
from urllib.parse import unquote, urlparse

import pytest

from conftest import ROOT

README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^()\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def links(path):
    """The link targets of a markdown file, code blocks left out."""
    return LINK.findall(FENCE.sub("", path.read_text(encoding="utf-8")))


def anchors(path):
    """GitHub's anchors of a markdown file's headings."""
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"^#+ (.*)$", text, re.M)}


def test_readme_is_short_and_keeps_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert text.count("\n") < 250
    extras = ".[test,references,reproduce,peers]"
    assert f'pip install -e "{extras}" && benchopt run .' in text
    # CI installs what the quick start installs
    assert f'-e "{extras}"' in (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^pytest\s", text, re.M)


@pytest.mark.parametrize("path", [README] + PAGES,
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_link_resolves(path):
    targets = links(path)
    assert targets, f"{path.name} has no link"
    for target in targets:
        url = urlparse(target)
        if url.scheme:          # not fetched (no network): well formed
            assert url.scheme == "https" and url.netloc, target
            continue
        file = (path.parent / unquote(url.path)).resolve() if url.path \
            else path
        assert file.exists(), f"{path.name}: {target} does not exist"
        assert ROOT in file.parents or file == ROOT, target
        if url.fragment:
            assert file.suffix == ".md", target
            assert url.fragment in anchors(file), (
                f"{path.name}: no heading #{url.fragment} in {file.name}")


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(README.parent / urlparse(t).path).resolve()
              for t in links(README) if not urlparse(t).scheme}
    assert PAGES and set(PAGES) <= linked
