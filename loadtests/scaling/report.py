"""The runner's summary: Locust's CSV stats, the threshold verdicts and what the stack
used, as a table on the terminal and as JSON beside the reports."""

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Row:
    kind: str
    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float
    max: float


def stats_rows(csv_prefix: Path) -> list[Row]:
    """Rows of Locust's `<prefix>_stats.csv`, the "Aggregated" total last."""
    path = Path(f"{csv_prefix}_stats.csv")
    rows = []
    with path.open(newline="") as file:
        for line in csv.DictReader(file):
            rows.append(
                Row(
                    kind=line["Type"],
                    name=line["Name"],
                    requests=int(line["Request Count"]),
                    failures=int(line["Failure Count"]),
                    rps=float(line["Requests/s"]),
                    p50=_number(line["50%"]),
                    p95=_number(line["95%"]),
                    p99=_number(line["99%"]),
                    max=_number(line["Max Response Time"]),
                )
            )
    return rows


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:  # "N/A" when nothing was recorded
        return float("nan")


def table(rows: list[Row], limits: dict[str, float]) -> str:
    width = max([len(row.name) for row in rows] + [30])
    head = f"{'type':5} {'name':{width}} {'reqs':>7} {'fails':>6} {'req/s':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'p95 limit':>10}"
    lines = [head, "-" * len(head)]
    for row in rows:
        limit = limits.get(row.name)
        mark = "" if limit is None else ("ok" if row.p95 <= limit else "OVER")
        shown = "" if limit is None else f"{limit:g} {mark}"
        lines.append(
            f"{row.kind[:5]:5} {row.name:{width}} {row.requests:>7} {row.failures:>6} "
            f"{row.rps:>7.1f} {row.p50:>7.0f} {row.p95:>7.0f} {row.p99:>7.0f} {shown:>10}"
        )
    return "\n".join(lines)


def verdicts_read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {"verdicts": [], "missing": []}


def cpu_table(used: dict[str, float], seconds: float, cores: int) -> str:
    lines = [
        f"CPU used during the run ({seconds:.0f}s wall, {cores} cores = {seconds * cores:.0f} CPU-s):"
    ]
    for part, value in sorted(used.items(), key=lambda item: -item[1]):
        lines.append(
            f"  {part:10} {value:8.1f} CPU-s  {100 * value / (seconds * cores):5.1f}% of the machine"
        )
    return "\n".join(lines)
