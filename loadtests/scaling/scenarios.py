"""The scenario file (loadtests/scenarios.toml): users, their mix and the thresholds."""

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "scenarios.toml"
# Names whose "response time" is an event's delay (loadtests/scaling/users/): what
# `notification_p95_ms` bounds.
EVENT_DELAYS = (
    "ws enrollment.created (commit → instructor)",
    "ws waitlist.offer (commit → student)",
    "ws progress.updated (write → tab)",
)
USER_CLASSES = (
    "BrowsingStudent", "HttpSearcher", "SocketSearcher", "EnrollingStudent",
    "LearningStudent", "WaitingStudent", "Instructor",
)  # fmt: skip


@dataclass(frozen=True)
class Thresholds:
    max_fail_ratio: float = 0.01
    notification_p95_ms: float | None = None
    p95_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Share:
    weight: float
    min: int = 0


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    users: int
    spawn_rate: float
    duration: str
    mix: dict[str, Share]
    thresholds: Thresholds

    def counts(self, users: int | None = None) -> dict[str, int]:
        """Users per class: `users` shared out by weight (largest remainders), each class
        then raised to its minimum (the total may grow by that)."""
        total = users if users is not None else self.users
        weights = sum(share.weight for share in self.mix.values())
        exact = {name: total * share.weight / weights for name, share in self.mix.items()}
        counts = {name: int(value) for name, value in exact.items()}
        by_remainder = sorted(exact, key=lambda name: exact[name] - counts[name], reverse=True)
        for name in by_remainder[: total - sum(counts.values())]:
            counts[name] += 1
        return {name: max(count, self.mix[name].min) for name, count in counts.items()}


@dataclass(frozen=True)
class Config:
    scenarios: dict[str, Scenario]
    stack: dict[str, Any]
    fixtures: dict[str, Any]


def _share(value: Any) -> Share:
    if isinstance(value, int | float):
        return Share(weight=float(value))
    return Share(weight=float(value["weight"]), min=int(value.get("min", 0)))


def config_load(path: Path = DEFAULT_FILE) -> Config:
    raw = tomllib.loads(path.read_text())
    scenarios = {}
    for name, body in raw.get("scenarios", {}).items():
        mix = {cls: _share(value) for cls, value in body["users_mix"].items()}
        unknown = set(mix) - set(USER_CLASSES)
        if unknown:
            raise ValueError(f"{path}: scenario {name}: unknown user classes {sorted(unknown)}")
        limits = body.get("thresholds", {})
        scenarios[name] = Scenario(
            name=name,
            description=body.get("description", ""),
            users=int(body.get("users", 50)),
            spawn_rate=float(body.get("spawn_rate", 10)),
            duration=str(body.get("duration", "1m")),
            mix=mix,
            thresholds=Thresholds(
                max_fail_ratio=float(limits.get("max_fail_ratio", 0.01)),
                notification_p95_ms=limits.get("notification_p95_ms"),
                p95_ms={key: float(value) for key, value in limits.get("p95_ms", {}).items()},
            ),
        )
    return Config(scenarios=scenarios, stack=raw.get("stack", {}), fixtures=raw.get("fixtures", {}))
