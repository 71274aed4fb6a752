"""Scorecard definitions as plain data: measures, weights, mappings and band thresholds.

A `ScorecardVersion` stores one of these as JSON and never changes; editing a scorecard makes a new
version. Validation lives here so the editor form, the API and the engine agree on what is valid.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .metrics import CATALOG, Direction

GROUPS = ("usage", "support", "sentiment", "financial", "relationship")


class ScorecardError(ValueError):
    """A scorecard definition that cannot be scored; the message says which field and why."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Band:
    """Points given to raw values at or above `min` (the band with the highest such `min` wins)."""

    min: float
    points: float


@dataclass(frozen=True)
class Measure:
    metric: str
    weight: float
    mapping: str = "linear"  # "linear" or "bands"
    worst: float | None = None  # linear: the raw value worth 0 points
    best: float | None = None  # linear: the raw value worth 100 points
    bands: tuple[Band, ...] = ()
    group: str = ""

    @property
    def label(self) -> str:
        return CATALOG[self.metric].label


@dataclass(frozen=True)
class ScorecardSpec:
    measures: tuple[Measure, ...]
    red_below: float = 40.0
    green_from: float = 70.0
    hysteresis: float = 3.0
    min_coverage: float = 0.5  # share of the total weight that must have data
    params: dict[str, Any] = field(default_factory=dict)  # e.g. {"key_feature": "reports"}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScorecardSpec:
        measures = []
        for raw in data.get("measures") or []:
            bands = tuple(Band(float(b["min"]), float(b["points"])) for b in raw.get("bands") or ())
            measures.append(
                Measure(
                    metric=raw["metric"],
                    weight=float(raw["weight"]),
                    mapping=raw.get("mapping", "linear"),
                    worst=None if raw.get("worst") is None else float(raw["worst"]),
                    best=None if raw.get("best") is None else float(raw["best"]),
                    bands=bands,
                    group=raw.get("group")
                    or (CATALOG[raw["metric"]].group if raw["metric"] in CATALOG else ""),
                )
            )
        spec = cls(
            measures=tuple(measures),
            red_below=float(data.get("red_below", 40)),
            green_from=float(data.get("green_from", 70)),
            hysteresis=float(data.get("hysteresis", 3)),
            min_coverage=float(data.get("min_coverage", 0.5)),
            params=dict(data.get("params") or {}),
        )
        spec.validate()
        return spec

    def validate(self) -> None:
        if not self.measures:
            raise ScorecardError("A scorecard needs at least one measure.", "measures")
        seen = set()
        for i, m in enumerate(self.measures):
            where = f"measures/{i}"
            if m.metric not in CATALOG:
                raise ScorecardError(f"Unknown metric {m.metric!r}.", f"{where}/metric")
            if m.metric in seen:
                raise ScorecardError(f"Metric {m.metric!r} appears twice.", f"{where}/metric")
            seen.add(m.metric)
            if not m.weight > 0:
                raise ScorecardError("Weights must be positive numbers.", f"{where}/weight")
            direction = CATALOG[m.metric].direction
            if m.mapping == "linear":
                if m.worst is None or m.best is None or m.worst == m.best:
                    raise ScorecardError("A linear mapping needs two different bounds.", f"{where}/best")
                if (m.best > m.worst) != (direction is Direction.HIGHER_BETTER):
                    better = "higher" if direction is Direction.HIGHER_BETTER else "lower"
                    raise ScorecardError(
                        f"For {CATALOG[m.metric].label}, {better} is better: 'best' must be {better} than 'worst'.",
                        f"{where}/best",
                    )
            elif m.mapping == "bands":
                if not m.bands:
                    raise ScorecardError("A banded mapping needs at least one band.", f"{where}/bands")
                mins = [b.min for b in m.bands]
                if mins != sorted(mins) or len(set(mins)) != len(mins):
                    raise ScorecardError("Band minimums must be strictly increasing.", f"{where}/bands")
                points = [b.points for b in m.bands]
                if any(not 0 <= p <= 100 for p in points):
                    raise ScorecardError("Band points must be between 0 and 100.", f"{where}/bands")
                increasing = direction is Direction.HIGHER_BETTER
                ordered = points == sorted(points) if increasing else points == sorted(points, reverse=True)
                if not ordered:
                    raise ScorecardError(
                        "Band points must rise with the value when higher is better, and fall when lower is.",
                        f"{where}/bands",
                    )
            else:
                raise ScorecardError("Mapping must be 'linear' or 'bands'.", f"{where}/mapping")
        if not 0 <= self.red_below < self.green_from <= 100:
            raise ScorecardError("Need 0 ≤ red threshold < green threshold ≤ 100.", "red_below")
        if not 0 <= self.hysteresis < (self.green_from - self.red_below) / 2:
            raise ScorecardError(
                "The hysteresis margin must be smaller than half the yellow band.", "hysteresis"
            )
        if not 0 < self.min_coverage <= 1:
            raise ScorecardError("Minimum coverage must be above 0 and at most 1.", "min_coverage")

    @property
    def metric_keys(self) -> list[str]:
        return [m.metric for m in self.measures]
