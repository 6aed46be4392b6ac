"""Writing a benchmark's figures into its own section of bench/README.md.

Each benchmark owns the text between ``<!-- section: NAME -->`` and ``<!-- /section: NAME -->``
and rewrites only that, so benchmarks run at different times never overwrite each other.
"""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"


def write_section(name: str, text: str, readme: Path = README) -> None:
    """Replace section ``name`` with ``text`` (appending the section when it is not there)."""
    begin, end = f"<!-- section: {name} -->", f"<!-- /section: {name} -->"
    block = f"{begin}\n{text.strip()}\n{end}"
    current = readme.read_text(encoding="utf-8") if readme.exists() else "# Benchmarks\n"
    if begin in current and end in current:
        head, rest = current.split(begin, 1)
        current = head + block + rest.split(end, 1)[1]
    else:
        current = current.rstrip() + "\n\n" + block + "\n"
    readme.write_text(current, encoding="utf-8")
