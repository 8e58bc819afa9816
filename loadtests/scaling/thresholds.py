"""A scenario's pass/fail verdicts from Locust's stats."""

from dataclasses import asdict, dataclass

from locust.stats import RequestStats

from loadtests.scaling.scenarios import EVENT_DELAYS, Thresholds


@dataclass(frozen=True)
class Verdict:
    what: str
    value: float | None
    limit: float
    passed: bool

    def line(self) -> str:
        shown = "never made" if self.value is None else f"{self.value:g}"
        return f"{'PASS' if self.passed else 'FAIL'}: {self.what} {shown} (limit {self.limit:g})"


def _p95(stats: RequestStats, name: str) -> float | None:
    entries = [entry for (entry_name, _), entry in stats.entries.items() if entry_name == name]
    entries = [entry for entry in entries if entry.num_requests]
    if not entries:
        return None
    # One name may come with several request types (GET and POST): the busiest one's.
    busiest = max(entries, key=lambda entry: entry.num_requests)
    return float(busiest.get_response_time_percentile(0.95))


def verdicts(stats: RequestStats, thresholds: Thresholds, expected: set[str]) -> list[Verdict]:
    """Every threshold of the scenario against the stats; a name with a limit that was
    never made fails. `expected`: the names the scenario's users make."""
    total = stats.total
    found = [
        Verdict("requests made", float(total.num_requests), 1, total.num_requests > 0),
        Verdict(
            "failure ratio",
            round(total.fail_ratio, 4),
            thresholds.max_fail_ratio,
            total.num_requests > 0 and total.fail_ratio <= thresholds.max_fail_ratio,
        ),
    ]
    limits = dict(thresholds.p95_ms)
    if thresholds.notification_p95_ms is not None:
        for name in EVENT_DELAYS:
            if name in expected:
                limits.setdefault(name, float(thresholds.notification_p95_ms))
    for name, limit in limits.items():
        value = _p95(stats, name)
        found.append(Verdict(f"p95 ms {name}", value, limit, value is not None and value <= limit))
    return found


def verdicts_json(found: list[Verdict]) -> list[dict]:
    return [asdict(verdict) for verdict in found]
