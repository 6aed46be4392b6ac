"""Every command and option of the CLI is documented in the README (as sqlite-utils does)."""

from __future__ import annotations

import re

import pytest

from search.cli import cli
from tests.helpers import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_command_documented(name: str) -> None:
    assert re.search(rf"`ketlit {name}\b", README), f"ketlit {name} is not in README.md"


@pytest.mark.parametrize(
    ("name", "option"),
    [(name, opt) for name, cmd in sorted(cli.commands.items()) for p in cmd.params
     for opt in p.opts if opt.startswith("--") and opt not in {"--config", "--help"}],
)
def test_option_documented(name: str, option: str) -> None:
    assert option in README, f"ketlit {name} {option} is not in README.md"


def test_readme_opens_with_the_two_commands() -> None:
    blocks = re.findall(r"```bash\n(.*?)\n```", README, flags=re.S)
    assert len(blocks) >= 2
    run, test = blocks[0].strip(), blocks[1].strip()
    assert "ketlit harvest" in run and "ketlit search" in run
    assert "pytest" in test
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci, ".ci/run must run exactly the README's test command"


# -- the registries (index/registry.py, search.export.EXPORT_FORMATS) are what the README lists --


def _exports_table() -> set[str]:
    section = README.split("## Exports", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z0-9-]+)` \|", section, flags=re.M))


def test_every_export_format_documented() -> None:
    from search.export import format_names

    assert _exports_table() == set(format_names()), \
        "README's Exports table and search.export.EXPORT_FORMATS list different formats"
    synopsis = re.search(r"--format ([a-z|\\-]+)", README.split("`ketlit export", 1)[1])
    assert synopsis is not None
    assert set(synopsis.group(1).replace("\\", "").split("|")) == set(format_names())


def test_every_field_tag_documented() -> None:
    from index.registry import FIELD_TAGS

    section = README.split("## Query language", 1)[1].split("\n## ", 1)[0]
    missing = [t.tag for t in FIELD_TAGS if f"[{t.tag}]" not in section]
    assert not missing, f"field tags not in README's Query language section: {missing}"


def test_every_facet_documented() -> None:
    from index.registry import FACETS

    text = " ".join(README.lower().split())
    missing = [f.label for f in FACETS if f.label.lower() not in text]
    assert not missing, f"facets not named in README.md: {missing}"
