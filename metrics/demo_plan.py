"""The demo warehouse's parameters: volumes, distributions and calendar, derived from the request.

Everything random in the generated data comes from `rand(expr, salt)`: a 64-bit hash of a row
number mixed with a per-(seed, salt) constant. DuckDB's `random()` is not reproducible across
threads, and its multi-argument `hash(a, b, c)` is nearly linear in its arguments (two salts of
the same row correlate at 0.9996), so the seed and salt are folded in with a SplitMix64 constant.
DuckDB's `hash` is stable within a DuckDB version, which is what "same data" is promised over.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

HISTORY_QUARTERS = 13  # quarters before the as-of quarter: about three and a half years
QUARTERLY_GROWTH = 0.08  # the business grows, so recent quarters are busier than old ones
CLOSE_LAG_DAYS = 45  # quotas follow the volume created about one sales cycle earlier
QUOTA_PLAN_FACTOR = 0.75  # quota / expected bookings; puts coverage near the 3x plan
SPEND_PER_CUSTOMER = 1_050.0  # sales + marketing spend per new-business customer won
AMOUNT_SIGMA = 0.75  # log-normal spread of deal sizes
CYCLE_SIGMA = 0.45  # log-normal spread of sales cycles
TOUCHES_PER_OPPORTUNITY = 3
LEADS_PER_OPPORTUNITY = 2.0  # leads that never convert; converted ones come on top
OPPORTUNITIES_PER_ACCOUNT = 8
NEW_BUSINESS_SHARE = 0.60  # of opportunities; the rest are expansions and renewals


@dataclass(frozen=True)
class Segment:
    """How one customer segment buys."""

    name: str
    share: float  # of accounts
    median_amount: float
    win_rate: float
    cycle_days: float  # median sales cycle
    contacts: float  # mean contacts per account
    seller_share: float


SEGMENTS = (
    Segment("SMB", 0.60, 3_000, 0.30, 22, 6, 0.45),
    Segment("Mid-Market", 0.28, 10_000, 0.25, 50, 14, 0.33),
    Segment("Enterprise", 0.12, 35_000, 0.20, 95, 30, 0.22),
)
REGIONS = (("NA", 0.45), ("EMEA", 0.30), ("APAC", 0.15), ("LATAM", 0.10))


def _splitmix64(value: int) -> int:
    value = (value + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return value ^ (value >> 31)


def quarter_start(day: dt.date) -> dt.date:
    """First day of the calendar quarter containing `day`."""
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Plan:
    """One warehouse request turned into concrete volumes and SQL helpers."""

    scale: int
    seed: int
    as_of: dt.date

    @property
    def history_start(self) -> dt.date:
        return add_months(quarter_start(self.as_of), -3 * HISTORY_QUARTERS)

    @property
    def data_end(self) -> dt.date:
        """Exclusive end of recorded history: the end of the as-of day."""
        return self.as_of + dt.timedelta(days=1)

    @property
    def history_days(self) -> int:
        return (self.data_end - self.history_start).days

    @property
    def growth_per_day(self) -> float:
        return math.log(1 + QUARTERLY_GROWTH) / 91.3125

    @property
    def accounts(self) -> int:
        return max(12, math.ceil(self.scale / OPPORTUNITIES_PER_ACCOUNT))

    @property
    def other_leads(self) -> int:
        return max(10, round(self.scale * LEADS_PER_OPPORTUNITY))

    @property
    def touches(self) -> int:
        return max(10, self.scale * TOUCHES_PER_OPPORTUNITY)

    @property
    def campaigns_per_month(self) -> int:
        return max(3, math.ceil(self.scale / 4_000))

    def sellers(self) -> list[tuple[str, str, int]]:
        """(segment, region, seller count) per cell; every cell has at least one seller."""
        per_20k = 24 * self.scale / 20_000
        return [
            (seg.name, region, max(1, round(per_20k * seg.seller_share * share)))
            for seg in SEGMENTS
            for region, share in REGIONS
        ]

    def rand(self, expr: str, salt: int) -> str:
        """SQL for a uniform number in [0, 1) determined by (`expr`, seed, salt)."""
        key = _splitmix64(self.seed * 1_000_003 + salt)
        return f"((hash(xor(({expr})::UBIGINT, {key}::UBIGINT)) >> 11) / 9007199254740992.0)"

    def pick(self, expr: str, salt: int, n: int | str) -> str:
        """SQL for an integer in [0, n) determined by (`expr`, seed, salt)."""
        return f"(floor({self.rand(expr, salt)} * ({n}))::BIGINT)"

    def normal(self, expr: str, salt: int) -> str:
        """SQL for a standard normal deviate (Box-Muller over two salts)."""
        u1 = self.rand(expr, salt)
        u2 = self.rand(expr, salt + 1)
        return f"(sqrt(-2 * ln(1 - {u1})) * cos(2 * pi() * {u2}))"

    def moment(self, expr: str, salt: int) -> str:
        """SQL for a day offset from the history start, denser in recent (grown) quarters."""
        g, days = self.growth_per_day, self.history_days
        return f"(ln(1 + {self.rand(expr, salt)} * {math.expm1(g * days)!r}) / {g!r})"

    def timestamp(self, days_expr: str) -> str:
        """SQL turning a (fractional) day offset from the history start into a TIMESTAMP."""
        return (f"(TIMESTAMP '{self.history_start}' + "
                f"to_microseconds(CAST(({days_expr}) * 86400000000 AS BIGINT)))")

    def volume(self, start: dt.date, end: dt.date, lag_days: int = 0) -> float:
        """Share of all created records that fall in [start - lag, end - lag) (may exceed 1)."""
        g = self.growth_per_day
        a = (start - self.history_start).days - lag_days
        b = (end - self.history_start).days - lag_days
        return (math.exp(g * b) - math.exp(g * a)) / math.expm1(g * self.history_days)


def choose(u_sql: str, options: list[tuple[str, float]]) -> str:
    """SQL CASE picking one of `options` (value, weight) by a uniform number."""
    total = sum(weight for _, weight in options)
    parts, cumulative = [], 0.0
    for value, weight in options[:-1]:
        cumulative += weight / total
        parts.append(f"WHEN {u_sql} < {cumulative!r} THEN '{value}'")
    return f"(CASE {' '.join(parts)} ELSE '{options[-1][0]}' END)"


def by_segment(column: str, values: dict[str, object]) -> str:
    """SQL CASE mapping a segment column to a per-segment constant."""
    whens = " ".join(f"WHEN '{name}' THEN {value!r}" for name, value in values.items())
    return f"(CASE {column} {whens} END)"


def expected_won_amount_per_opportunity() -> float:
    """Mean bookings one created opportunity brings, over the segment mix."""
    mean = math.exp(AMOUNT_SIGMA**2 / 2)
    return sum(s.share * s.win_rate * s.median_amount * mean for s in SEGMENTS)


def expected_customers_per_opportunity() -> float:
    """Mean new-business wins one created opportunity brings."""
    return NEW_BUSINESS_SHARE * sum(s.share * s.win_rate for s in SEGMENTS)

