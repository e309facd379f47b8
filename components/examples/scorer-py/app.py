"""A challenger behavioural scorer for postloan, written in Python.

It implements the `scorer` world of postloan's WIT (`postloan:scoring/scoring`): a small
logistic model over six behaviour features instead of the default points scorecard. All
arithmetic is in `decimal`, so the same input always gives the same score.

Build it with componentize-py (see README.md): the class below is what the generated
`wit_world.exports.Scoring` protocol asks for.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.scoring import (
    BehaviourScore,
    Error_InvalidField,
    Error_InvalidSettings,
    ModelInfo,
    ReasonCode,
    ReasonMeaning,
    ScoringInput,
)
from wit_world.imports.types import FieldError, RiskTier

NAME = "logistic-challenger-py"
VERSION = "1.0.0"
MIN_SCORE, MAX_SCORE = 300, 650

# Log-odds (good:bad) with nothing against the borrower, and what each feature takes off.
INTERCEPT = Decimal("5.2")
# (feature's WIT name, reason code, meaning, log-odds lost per unit)
TERMS = [
    ("current-dpd", "P01", "Days past due now", Decimal("0.05")),
    ("max-dpd-m6", "P02", "Worst days past due in 6 months", Decimal("0.02")),
    ("on-time-share", "P03", "Installments not paid on time", Decimal("1.5")),
    ("partial-payments", "P04", "Partial payments", Decimal("0.3")),
    ("promises-broken", "P05", "Broken promises to pay", Decimal("0.4")),
    ("days-since-last-payment", "P06", "Days without a payment beyond 30", Decimal("0.01")),
]

# Scaling, as the default scorecard: 600 points at 50:1, 20 points to double the odds.
BASE_SCORE, BASE_ODDS, PDO = Decimal(600), Decimal(50), Decimal(20)
TIER_FLOORS = [(660, RiskTier.A), (620, RiskTier.B), (580, RiskTier.C), (540, RiskTier.D)]


def factor() -> Decimal:
    return PDO / Decimal(2).ln()


def unit_interval(field: str, text: str) -> Decimal:
    """A decimal from 0 to 1, or an invalid-field error naming `features.<field>`."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not Decimal(0) <= value <= Decimal(1):
        reason = f"`{text}` is not a decimal from 0 to 1"
        raise Err(Error_InvalidField(FieldError(f"features.{field}", reason)))
    return value


def exposures(input: ScoringInput) -> dict:
    """How much of each term the loan shows; 0 is the best."""
    f = input.features
    idle = f.days_since_last_payment
    return {
        "current-dpd": Decimal(f.current_dpd),
        "max-dpd-m6": Decimal(f.max_dpd_m6),
        "on-time-share": 1 - unit_interval("on_time_share", f.on_time_share),
        "partial-payments": Decimal(f.partial_payments),
        "promises-broken": Decimal(f.promises_broken),
        "days-since-last-payment": Decimal(max(0, (idle or 0) - 30)),
    }


def points(log_odds: Decimal) -> Decimal:
    return BASE_SCORE + factor() * (log_odds - BASE_ODDS.ln())


def probability_of_default(score: int) -> str:
    log_odds = BASE_ODDS.ln() + (Decimal(score) - BASE_SCORE) / factor()
    pd = 1 / (1 + log_odds.exp())
    return str(pd.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP))


def tier(score: int) -> RiskTier:
    return next((t for floor, t in TIER_FLOORS if score >= floor), RiskTier.E)


def reasons(exposure: dict) -> list:
    lost = []
    for feature, code, _, weight in TERMS:
        cost = (factor() * weight * exposure[feature]).quantize(Decimal(1), ROUND_HALF_UP)
        if cost > 0:
            lost.append(ReasonCode(code, feature, min(int(cost), 2**32 - 1)))
    lost.sort(key=lambda r: -r.points_lost)  # stable: ties keep TERMS order
    return lost[:4]


class Scoring(exports.Scoring):
    def configure(self, settings: str) -> None:
        reason = "this scorer takes no settings; leave the `scorecard` variable empty"
        raise Err(Error_InvalidSettings(FieldError("settings", reason)))

    def score(self, input: ScoringInput) -> BehaviourScore:
        with localcontext() as ctx:
            ctx.prec = 34
            exposure = exposures(input)
            log_odds = INTERCEPT - sum(w * exposure[f] for f, _, _, w in TERMS)
            raw = points(log_odds).quantize(Decimal(1), ROUND_HALF_UP)
            value = int(min(max(raw, Decimal(MIN_SCORE)), Decimal(MAX_SCORE)))
            return BehaviourScore(
                value, probability_of_default(value), tier(value), reasons(exposure)
            )

    def describe(self) -> ModelInfo:
        return ModelInfo(
            NAME,
            VERSION,
            MIN_SCORE,
            MAX_SCORE,
            [feature for feature, _, _, _ in TERMS],
            [ReasonMeaning(code, meaning) for _, code, meaning, _ in TERMS],
        )
