"""Follow-up screening: a prior CT registered to the current one, nodules matched, growth and volume
doubling time, Lung-RADS v2022 with comparison. Torch-, Qt- and VTK-free.

Entry point :func:`compare` (``inference.longitudinal.compare``); results are
:class:`FollowupResult` with one :class:`ComparisonResult` per nodule; JSON via :func:`to_json_dict`.
"""

from .change import VOLUME_NOISE_PCT, doubling_time, parse_study_date, slow_growth, volume_change_pct
from .compare import FollowupResult, check_pair, compare
from .errors import (DifferentPatient, LongitudinalError, LongitudinalWarning, NoCommonLungs, PriorNotEarlier,
                     PriorUnavailable, RegistrationFailed, SameDayStudies)
from .matching import GATE_MM, Match, match
from .register import Registration, RegistrationQuality, register, resample_prior
from .report import comparison_from_dict, comparison_to_dict, to_json_dict
from .types import ComparisonResult, FindingOrigin, NoduleInput, NoduleSize, PairStatus, TimePoint

__all__ = [
    "ComparisonResult", "DifferentPatient", "FindingOrigin", "FollowupResult", "GATE_MM", "LongitudinalError",
    "LongitudinalWarning", "Match", "NoCommonLungs", "NoduleInput", "NoduleSize", "PairStatus", "PriorNotEarlier",
    "PriorUnavailable", "Registration", "RegistrationFailed", "RegistrationQuality", "SameDayStudies", "TimePoint",
    "VOLUME_NOISE_PCT", "check_pair", "compare", "comparison_from_dict", "comparison_to_dict", "doubling_time", "match",
    "parse_study_date", "register", "resample_prior", "slow_growth", "to_json_dict", "volume_change_pct",
]
