"""What a harvest reports: per topic (mode, counts, status, the one line the CLI prints) and for
the run (the lines, whether it is ok). harvester/harvest.py fills them; the CLI, the schedule and
the run log read them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TopicReport:
    topic: str
    mode: str  # full (first walk), resync (--full), requery (query changed), incremental, since,
    # reconcile (incremental plus the periodic comparison with PubMed's id list)
    status: str = "running"  # ok, failed, interrupted, skipped
    windows: int = 0
    requests: int = 0
    new: int = 0
    updated: int = 0
    deleted: int = 0
    failed: int = 0
    missing: list[str] = field(default_factory=list)
    error: str | None = None
    reached_server: bool = False

    def line(self) -> str:
        counts = (f"{self.new} new, {self.updated} updated, {self.deleted} deleted; "
                  f"{self.windows} window(s), {self.requests} request(s)")
        if self.status == "ok":
            return f"{self.topic}: {counts} ({self.mode})"
        if self.status == "interrupted":
            return (f"{self.topic}: interrupted after {counts}; committed records are kept and "
                    "the next run resumes")
        if self.status == "skipped":
            return f"{self.topic}: not harvested ({self.error})"
        return (f"{self.topic}: FAILED: {self.error}; {counts} committed before the failure are "
                "kept and the next run resumes")


@dataclass
class HarvestReport:
    topics: list[TopicReport] = field(default_factory=list)
    interrupted: bool = False
    stop_reason: str | None = None

    @property
    def ok(self) -> bool:
        """False when a topic failed. An interrupted run is ok: it stopped because it was asked
        to, committed what it had, and the next run resumes (so the CLI exits 0)."""
        return not any(t.status == "failed" for t in self.topics)

    def summary_lines(self) -> list[str]:
        lines = [t.line() for t in self.topics]
        for t in self.topics:
            if t.missing:
                shown = ", ".join(t.missing[:20]) + (" ..." if len(t.missing) > 20 else "")
                lines.append(f"{t.topic}: {len(t.missing)} PMID(s) listed by esearch that PubMed "
                             f"no longer returns: {shown}")
        if self.interrupted:
            lines.append(f"harvest interrupted ({self.stop_reason or 'stop requested'}); "
                         "everything committed is kept; run `ketlit harvest` again to finish")
        return lines
