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
