"""Nodule matching across two exams: one global assignment on registered distance and size.

Cost of pairing current nodule *i* with prior nodule *j*: the distance between the current centre
and the prior centre mapped into the current frame, over the gate, plus half the relative size
difference. Pairs farther apart than the gate (``GATE_MM`` or, for large nodules, half the larger
diameter plus 5 mm) are never made. ``scipy.optimize.linear_sum_assignment`` finds the pairing of
least total cost; unpaired current nodules are NEW, unpaired prior nodules RESOLVED.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from .register import Registration
from .types import NoduleInput

GATE_MM = 10.0
_FORBIDDEN = 1e6


@dataclass(frozen=True, slots=True)
class Match:
    current: int | None  # index into the current nodules
    prior: int | None  # index into the prior nodules
    distance_mm: float | None  # registered distance


def gate_mm(d1: float | None, d2: float | None) -> float:
    return max(GATE_MM, 0.5 * max(d1 or 0.0, d2 or 0.0) + 5.0)


def cost_matrix(current: Sequence[NoduleInput], prior: Sequence[NoduleInput],
                reg: Registration) -> tuple[np.ndarray, np.ndarray]:
    """(cost, registered distance) matrices, current × prior; gated entries cost ``_FORBIDDEN``."""
    c = np.array([n.center for n in current], float).reshape(-1, 3)
    p = reg.to_current(np.array([n.center for n in prior], float).reshape(-1, 3))
    dist = np.linalg.norm(c[:, None, :] - p[None, :, :], axis=-1)
    cost = np.full(dist.shape, _FORBIDDEN)
    for i, a in enumerate(current):
        for j, b in enumerate(prior):
            g = gate_mm(a.diameter_mm, b.diameter_mm)
            if dist[i, j] > g:
                continue
            size = 0.0
            if a.diameter_mm and b.diameter_mm:
                size = abs(a.diameter_mm - b.diameter_mm) / max(a.diameter_mm, b.diameter_mm)
            cost[i, j] = dist[i, j] / g + 0.5 * size
    return cost, dist


def match(current: Sequence[NoduleInput], prior: Sequence[NoduleInput], reg: Registration,
          forced: Mapping[str, str | None] | None = None) -> list[Match]:
    """Matched pairs first (in current order), then NEW, then RESOLVED.

    ``forced`` holds the reader's decisions: current key → prior key (a pair kept whatever the
    gate) or None (un-paired: NEW). Only the other nodules take part in the assignment.
    """
    out: list[Match] = []
    paired_c: set[int] = set()
    paired_p: set[int] = set()
    p_index = {n.key: j for j, n in enumerate(prior)}
    for i, n in enumerate(current):
        if forced and n.key in forced:
            paired_c.add(i)
            j = p_index.get(forced[n.key] or "")
            if j is not None and j not in paired_p:
                d = float(np.linalg.norm(np.asarray(n.center) - reg.to_current(prior[j].center)))
                out.append(Match(i, j, d))
                paired_p.add(j)
            else:
                out.append(Match(i, None, None))
    if current and prior:
        cost, dist = cost_matrix(current, prior, reg)
        cost[sorted(paired_c), :] = _FORBIDDEN
        cost[:, sorted(paired_p)] = _FORBIDDEN
        rows, cols = linear_sum_assignment(cost)
        for i, j in sorted(zip(rows.tolist(), cols.tolist(), strict=True)):
            if cost[i, j] < _FORBIDDEN:
                out.append(Match(i, j, float(dist[i, j])))
                paired_c.add(i)
                paired_p.add(j)
    out.sort(key=lambda m: (m.prior is None, m.current))
    out += [Match(i, None, None) for i in range(len(current)) if i not in paired_c]
    out += [Match(None, j, None) for j in range(len(prior)) if j not in paired_p]
    return out
