"""Independent references for the relationship-model tests: the design built with plain pandas
(not the code under test) and statsmodels MixedLM fitted with the exact call of docs/clinical.md
"Analytics", optimised tightly so its own stopping rule is not what the comparison measures."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from statsmodels.regression.mixed_linear_model import MixedLMResults
from statsmodels.tools.sm_exceptions import ConvergenceWarning

TERMS = ["Intercept", "a_within", "a_between", "log_session"]


def design(frame: pd.DataFrame, alliance: str = "checkin") -> pd.DataFrame:
    """Rows with an outcome and `alliance`, person-mean centred by (therapist, client)."""
    df = frame.dropna(subset=["outcome", alliance]).copy()
    df["therapist"] = df["therapist"].astype(str)
    df["client"] = df["client"].astype(str)
    mean = df.groupby(["therapist", "client"])[alliance].transform("mean")
    df["a_between"] = mean
    df["a_within"] = df[alliance] - mean
    df["log_session"] = np.log(df["session"].astype(float))
    df["y"] = df["outcome"]
    return df


def with_previous_checkin(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with `previous`: the check-in of the client's previous row, by a plain loop."""
    df = frame.copy()
    df["previous"] = np.nan
    for _, rows in df.groupby(["therapist", "client"], observed=True):
        ordered = rows.sort_values("session")
        values = ordered["checkin"].to_numpy()
        df.loc[ordered.index[1:], "previous"] = values[:-1]
    return df


def statsmodels_fit(df: pd.DataFrame) -> MixedLMResults:
    model = smf.mixedlm(
        "y ~ a_within + a_between + log_session",
        df,
        groups="therapist",
        re_formula="1",
        vc_formula={"client": "0 + C(client)"},
    )
    with warnings.catch_warnings():
        # gtol=1e-12 is below what BFGS can certify, so it reports "not converged" with a
        # gradient of zero to the printed precision; the comparison itself is the check.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(reml=True, method=["bfgs"], gtol=1e-12, maxiter=2000)


def statsmodels_blups(result: MixedLMResults) -> dict[str, float]:
    """The therapist random intercepts, by therapist label."""
    return {str(k): float(v.iloc[0]) for k, v in result.random_effects.items()}
