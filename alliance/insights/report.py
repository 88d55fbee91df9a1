"""The Insights report as plain JSON: what `alliance report` prints (issue 11, point 7).

`clinic_report(data, start=..., end=...)` assembles every part from the clinic's records
(`alliance.analytics.records.ClinicData`, read from the database by `alliance.insights.records`);
`responses_report(frame)` computes what a per-response CSV allows (read by
`alliance.analytics.responses_csv`). Both return a dict of JSON types only (lists, str, int, float,
bool, None: a NaN becomes None), so `json.dumps(..., allow_nan=False)` always works.

Top-level keys (docs/insights.md, "From the command line"):

    format, source, period, as_of, therapist, outcome_instrument, ids
    outcomes        alliance.analytics.outcomes (rates with numerators, denominators, intervals)
    model           alliance.analytics.model: fixed_effects {Intercept, a_within, a_between,
                    log_session: {estimate, se, low, high, se_joint}}, variance_components
                    {therapist, client, residual}, ..., and `lagged` (the temporal direction)
    therapists      alliance.analytics.therapist: shrunk estimates with intervals, `unstable`
    psychometrics   alliance.analytics.psychometrics (the check-in tests itself)
    alert_quality   alliance.analytics.alert_quality
    ruptures        {repair, perspective_gap}: alliance.analytics.ruptures

Decisions
  - **Too little data is an answer, not an error.** Each part is always present. The analytics
    modules say themselves when they cannot give a figure (a model that could not be fitted says
    why; psychometrics sections carry `status: not_enough_data` with `have` and `need`; a rate
    with denominator 0 is None), and the report passes that on unchanged rather than leaving the
    key out or inventing a number.
  - A part the *source* cannot give (the CSV has no episode dates, attendance or alerts) is
    `{"status": "not_available", "reason": ...}`, so a reader can tell "this file cannot say"
    from "not enough data".
  - The lagged model stays inside `model` (`model.lagged`), where the analytics put it.
  - The period goes to the parts that have one (outcomes, alert quality); the records are already
    limited to the episodes open in it (alliance.insights.records says why the models use whole
    courses). `as_of` dates the data gap "attendance not recorded".
  - No free text can appear: the records carry none, and every sentence in the output is built
    from numbers by the analytics modules.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from alliance.analytics.alert_quality import alert_quality_report
from alliance.analytics.frames import session_frame
from alliance.analytics.jsonable import plain
from alliance.analytics.model import RelationshipModel, relationship_model
from alliance.analytics.outcomes import outcomes_report
from alliance.analytics.phrases import gettext_noop
from alliance.analytics.psychometrics import checkin_psychometrics
from alliance.analytics.records import ClinicData, EpisodeRecord, ResponseRecord
from alliance.analytics.responses_csv import CHECKIN_DIMENSIONS, DEFAULT_OUTCOME
from alliance.analytics.ruptures import (
    checkin_gaps,
    episode_changes,
    perspective_gap_outcomes,
    rupture_outcomes,
)
from alliance.analytics.therapist import therapist_variation
from alliance.measures import UnknownInstrument, get_instrument

FORMAT = "alliance-insights-report/1"
# In English in the JSON; marked so that the pages show them in the reader's language
# (alliance.insights.phrasing translates the "ids" key).
IDS = gettext_noop(
    "Export pseudonyms: T- therapist, C- client, E- episode, each an HMAC-SHA256 of the object's "
    "kind and database id under a key derived from the server's SECRET_KEY (docs/insights.md). "
    "Stable across runs; no client code, name or database id."
)
CSV_IDS = gettext_noop(
    "As given in the file (the export's pseudonyms when it comes from Alliance)."
)
# The CSV has no dates to order sessions by reliably; session numbers follow the dates in the app,
# so synthetic times in session order give the psychometrics the order they need.
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def not_available(reason: str) -> dict[str, str]:
    return {"status": "not_available", "reason": reason}


def outcome_label(instrument: str) -> str:
    """ "PHQ-9" from "Patient Health Questionnaire (PHQ-9)"; the id when there is no short form."""
    try:
        title = get_instrument(instrument).title("en")
    except UnknownInstrument:
        return instrument
    found = re.search(r"\(([^()]+)\)\s*$", title)
    return found.group(1) if found else title


def lower_is_better(instrument: str) -> bool:
    try:
        return bool(get_instrument(instrument).direction == "higher_is_worse")
    except UnknownInstrument:
        return True


def _model(sessions: pd.DataFrame, instrument: str) -> RelationshipModel:
    return relationship_model(
        sessions,
        outcome_label=outcome_label(instrument),
        lower_is_better=lower_is_better(instrument),
    )


def _as_json(parts: Mapping[str, Any]) -> dict[str, Any]:
    result = plain({k: v.as_dict() if hasattr(v, "as_dict") else v for k, v in parts.items()})
    assert isinstance(result, dict)
    return result


def clinic_report(
    data: ClinicData,
    *,
    start: date | None = None,
    end: date | None = None,
    as_of: date | None = None,
    therapist: str | None = None,
    outcome_instrument: str = DEFAULT_OUTCOME,
) -> dict[str, Any]:
    """Every part from the clinic's records (already limited to what the reader may see;
    `therapist` only labels the output)."""
    label = outcome_label(outcome_instrument)
    model = _model(session_frame(data, outcome_instrument), outcome_instrument)
    changes = episode_changes(data, outcome_instrument)
    return _as_json(
        {
            "format": FORMAT,
            "source": "database",
            "period": {"start": start, "end": end},
            "as_of": as_of,
            "therapist": therapist,
            "outcome_instrument": outcome_instrument,
            "ids": IDS,
            "outcomes": outcomes_report(data, start, end, as_of=as_of),
            "model": model,
            "therapists": therapist_variation(model),
            "psychometrics": checkin_psychometrics(data, outcome_instrument=outcome_instrument),
            "alert_quality": alert_quality_report(data, start, end),
            "ruptures": {
                "repair": rupture_outcomes(changes, data.alerts, label).as_dict(),
                "perspective_gap": perspective_gap_outcomes(
                    changes, data.alerts, checkin_gaps(data.responses), label
                ).as_dict(),
            },
        }
    )


def responses_report(frame: pd.DataFrame, *, therapist: str | None = None) -> dict[str, Any]:
    """What a per-response table allows: the relationship model (with its lagged form), therapist
    variation, and the check-in's psychometrics when the four dimensions are columns."""
    instrument = str(frame.attrs.get("outcome_instrument", DEFAULT_OUTCOME))
    model = _model(frame, instrument)
    missing = [c for c in CHECKIN_DIMENSIONS if c not in frame.columns]
    psychometrics: Any = (
        checkin_psychometrics(frame_records(frame, instrument), outcome_instrument=instrument)
        if not missing
        else not_available(
            "the file has no column(s) " + ", ".join(missing) + " (the check-in's dimensions)"
        )
    )
    no_episodes = "the per-response CSV has no episode dates, end reasons or attendance"
    return _as_json(
        {
            "format": FORMAT,
            "source": "responses_csv",
            "rows": len(frame),
            "period": {"start": None, "end": None},
            "as_of": None,
            "therapist": therapist,
            "outcome_instrument": instrument,
            "ids": CSV_IDS,
            "outcomes": not_available(no_episodes),
            "model": model,
            "therapists": therapist_variation(model),
            "psychometrics": psychometrics,
            "alert_quality": not_available("the per-response CSV has no alerts"),
            "ruptures": not_available("the per-response CSV has no alerts or episode outcomes"),
        }
    )


def _number(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def frame_records(frame: pd.DataFrame, outcome_instrument: str) -> ClinicData:
    """A per-response table as records for the psychometrics: one episode per (client, episode)
    (the client alone when there is no episode column), a client check-in with its dimensions and
    an outcome response per row where present, timed in session order (outcome before the
    session, check-in after it)."""
    clients = frame["client"].astype(str).tolist()
    therapists = frame["therapist"].astype(str).tolist()
    episodes = (
        frame["episode"].astype(str).tolist() if "episode" in frame.columns else [""] * len(frame)
    )
    sessions = frame["session"].astype(int).tolist()
    outcomes = frame["outcome"].tolist()
    totals = frame["checkin"].tolist()
    dimensions = [
        frame[c].tolist() if c in frame.columns else [math.nan] * len(frame)
        for c in CHECKIN_DIMENSIONS
    ]

    episode_records: dict[str, EpisodeRecord] = {}
    responses: list[ResponseRecord] = []
    for k, (client, episode, session) in enumerate(zip(clients, episodes, sessions, strict=True)):
        key = f"{client}\x1f{episode}"
        if key not in episode_records:
            episode_records[key] = EpisodeRecord(
                key, client, therapists[k], _EPOCH.date(), _EPOCH.date()
            )
        before = _EPOCH + timedelta(days=session)
        if (outcome := _number(outcomes[k])) is not None:
            responses.append(ResponseRecord(key, outcome_instrument, before, outcome, session))
        items = {
            name: value
            for name, column in zip(CHECKIN_DIMENSIONS, dimensions, strict=True)
            if (value := _number(column[k])) is not None
        }
        total = _number(totals[k])
        if items or total is not None:
            responses.append(
                ResponseRecord(
                    key, "checkin", before + timedelta(hours=2), total, session, items=items
                )
            )
    responses.sort(key=lambda r: r.submitted_at)
    return ClinicData(episodes=tuple(episode_records.values()), responses=tuple(responses))
