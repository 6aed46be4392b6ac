"""Writing a benchmark's figures into its own section of bench/README.md, and measuring a
process's peak memory the same way in every benchmark.

Each benchmark owns the text between ``<!-- section: NAME -->`` and ``<!-- /section: NAME -->``
and rewrites only that, so benchmarks run at different times never overwrite each other.
"""

from __future__ import annotations

import resource
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


def vmhwm_mb(pid: int | str = "self") -> float | None:
    """A process's peak resident memory (VmHWM) in MB, or None without /proc or once the
    process has gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """This process's peak resident memory, in MB.

    VmHWM where there is /proc, not ``ru_maxrss``: Linux carries the parent's peak into a
    child's ``ru_maxrss`` when the child execs (the larger of the two is kept), so a fresh
    process started by a benchmark that holds 20,000 efetch answers reported the parent's
    ~600 MB as its own."""
    hwm = vmhwm_mb()
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
