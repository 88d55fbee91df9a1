"""The relationship model against R's lme4 (issue 11, point 8): an independent implementation of
REML for the same model, agreeing to 1e-3 on fixed effects, standard errors (lme4's convention,
`se`), variance components, the REML criterion and the therapists' empirical-Bayes
intercepts.

Needs Rscript with lme4 (Debian: `apt-get install -y --no-install-recommends r-cran-lme4`); skips
with that message where it is absent, and fails instead when ALLIANCE_REQUIRE_LME4=1 (CI sets it,
and installs the package).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from alliance.analytics.model import TERMS, relationship_model
from alliance.analytics.simulate import simulate
from alliance.analytics.therapist import therapist_variation
from tests.analytics.model_reference import design

INSTALL = "apt-get install -y --no-install-recommends r-cran-lme4"
TOLERANCE = 1e-3

LMER_SCRIPT = r"""
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], colClasses = c(therapist = "factor", client = "factor"))
m <- lmer(
  y ~ a_within + a_between + log_session + (1 | therapist) + (1 | therapist:client),
  data = d, REML = TRUE,
  control = lmerControl(optimizer = "bobyqa", optCtrl = list(rhobeg = 2e-2, rhoend = 1e-10))
)
fe <- fixef(m)
se <- sqrt(diag(as.matrix(vcov(m))))
vc <- as.data.frame(VarCorr(m))
re <- ranef(m)$therapist
out <- rbind(
  data.frame(kind = "fixed", name = names(fe), value = unname(fe), se = unname(se)),
  data.frame(kind = "variance", name = vc$grp, value = vc$vcov, se = NA),
  data.frame(kind = "ranef", name = rownames(re), value = re[, 1], se = NA),
  data.frame(kind = "reml", name = "criterion", value = REMLcrit(m), se = NA)
)
write.csv(out, args[2], row.names = FALSE)
"""


def _require_lme4() -> str:
    def missing(reason: str) -> str:
        message = f"{reason}: the lme4 cross-check needs R's lme4 ({INSTALL})"
        if os.environ.get("ALLIANCE_REQUIRE_LME4") == "1":
            pytest.fail(message)
        pytest.skip(message)

    rscript = shutil.which("Rscript")
    if rscript is None:
        return missing("Rscript is not installed")
    probe = subprocess.run(  # noqa: S603 - a fixed command, no user input
        [rscript, "-e", 'quit(status = if (requireNamespace("lme4", quietly = TRUE)) 0 else 1)'],
        capture_output=True,
        check=False,
        timeout=120,
    )
    if probe.returncode != 0:
        return missing("R is installed without lme4")
    return rscript


def test_relationship_model_agrees_with_lme4(tmp_path: Path) -> None:
    rscript = _require_lme4()
    clinic = simulate(episodes=400, therapists=20, seed=2718)
    data = design(clinic.responses)
    data_csv, out_csv, script = tmp_path / "sessions.csv", tmp_path / "lme4.csv", tmp_path / "fit.R"
    data[["therapist", "client", "y", "a_within", "a_between", "log_session"]].to_csv(
        data_csv, index=False, float_format="%.17g"
    )
    script.write_text(LMER_SCRIPT)
    run = subprocess.run(  # noqa: S603 - our own script on our own files
        [rscript, str(script), str(data_csv), str(out_csv)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    with out_csv.open() as handle:
        rows = list(csv.DictReader(handle))
    fixed = {r["name"]: (float(r["value"]), float(r["se"])) for r in rows if r["kind"] == "fixed"}
    variance = {r["name"]: float(r["value"]) for r in rows if r["kind"] == "variance"}
    ranef = {r["name"]: float(r["value"]) for r in rows if r["kind"] == "ranef"}
    criterion = next(float(r["value"]) for r in rows if r["kind"] == "reml")

    model = relationship_model(clinic.responses, lagged=False)
    lme4_names = {"Intercept": "(Intercept)"}
    for term in TERMS:
        estimate, se = fixed[lme4_names.get(term, term)]
        fe = model.fixed_effects[term]
        assert fe.estimate == pytest.approx(estimate, abs=TOLERANCE), term
        # lme4's vcov is sigma_hat^2(X'V^-1X)^-1: our se is the same quantity.
        assert fe.se == pytest.approx(se, abs=TOLERANCE, rel=1e-4), term
        # se_joint follows statsmodels (joint observed information; see model.py). On this data
        # set the two conventions differ by 0.006 for the intercept (SE 1.07), so they are held to
        # 1% of each other, not to 1e-3.
        assert fe.se_joint == pytest.approx(se, rel=0.01), term
    vc = model.variance_components
    assert vc["therapist"] == pytest.approx(variance["therapist"], abs=TOLERANCE)
    assert vc["client"] == pytest.approx(variance["therapist:client"], abs=TOLERANCE)
    assert vc["residual"] == pytest.approx(variance["Residual"], abs=TOLERANCE)
    assert model.fit is not None
    assert model.fit.reml_criterion == pytest.approx(criterion, abs=TOLERANCE)

    variation = therapist_variation(model)
    assert {t.therapist for t in variation.therapists} == set(ranef)
    for t in variation.therapists:
        assert t.estimate == pytest.approx(ranef[t.therapist], abs=TOLERANCE), t.therapist
