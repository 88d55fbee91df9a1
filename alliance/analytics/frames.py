"""Records (`alliance.analytics.records`) as pandas tables, for the analyses that work on columns.

A clinic of 100,000 episodes has about five million records; walking them once per column and
leaving the sorting, de-duplication and pivoting to pandas keeps the conversion to seconds
(benchmarks/insights_scale.py). Rule shared by every table here: when one session has more than
one response of an instrument from the same respondent, the last submitted counts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from alliance.analytics.records import ClinicData, EpisodeRecord, ResponseRecord

SESSION_COLUMNS = ["therapist", "client", "episode", "session", "outcome", "checkin"]


def response_table(
    responses: Sequence[ResponseRecord], instruments: Sequence[str], *, with_day: bool = False
) -> pd.DataFrame:
    """Responses of `instruments` with a total, oldest first (stable): episode, instrument,
    respondent, session (float, NaN when not linked to a session), total, order (POSIX seconds of
    submitted_at) and, with `with_day`, day: submitted_at.date() in the datetime's own zone, as
    `alliance.measures.nhs` dates scores."""
    wanted = set(instruments)
    kept = [r for r in responses if r.instrument in wanted and r.total is not None]
    columns: dict[str, object] = {
        "episode": [r.episode for r in kept],
        "instrument": [r.instrument for r in kept],
        "respondent": [r.respondent for r in kept],
        "session": np.array(
            [np.nan if r.session_number is None else r.session_number for r in kept],
            dtype=np.float64,
        ),
        "total": np.array([r.total for r in kept], dtype=np.float64),
        # Seconds, not pandas datetimes: only the order matters here, and converting millions of
        # datetime objects costs more than the rest of the table.
        "order": np.array([r.submitted_at.timestamp() for r in kept], dtype=np.float64),
    }
    if with_day:
        columns["day"] = [r.submitted_at.date() for r in kept]
    table = pd.DataFrame(columns)
    order = table["order"].to_numpy()
    if order.size and bool(np.all(order[1:] >= order[:-1])):
        return table  # already oldest first (records usually come that way): skip the sort
    return table.sort_values("order", kind="stable", ignore_index=True)


def episode_table(episodes: Sequence[EpisodeRecord]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "episode": [e.episode for e in episodes],
            "client": [e.client for e in episodes],
            "therapist": [e.therapist for e in episodes],
        }
    )


def per_session(table: pd.DataFrame) -> pd.DataFrame:
    """One total per (episode, session, instrument): the last submitted. Rows without a session
    are left out. Index (episode, session), one column per instrument."""
    linked = table.dropna(subset=["session"])
    last = linked.drop_duplicates(["episode", "session", "instrument"], keep="last")
    return last.pivot(index=["episode", "session"], columns="instrument", values="total")


def session_frame(
    clinic: ClinicData, outcome_instrument: str = "phq9", checkin_instrument: str = "checkin"
) -> pd.DataFrame:
    """The relationship model's input from records: one row per (episode, session number) with the
    client's outcome and check-in totals (NaN where missing), and the episode's therapist and
    client. Only responses given by the client and linked to a session count. The client id is
    the episode's, so a client's second episode with the same therapist continues their series."""
    table = response_table(clinic.responses, (outcome_instrument, checkin_instrument))
    table = table[table["respondent"] == "client"]
    if table.empty:
        return pd.DataFrame(columns=SESSION_COLUMNS)
    wide = per_session(table).reindex(columns=[outcome_instrument, checkin_instrument])
    wide.columns = pd.Index(["outcome", "checkin"])
    frame = wide.reset_index().merge(episode_table(clinic.episodes), on="episode", how="inner")
    frame["session"] = frame["session"].astype(np.int64)
    return frame[SESSION_COLUMNS].sort_values(["episode", "session"], ignore_index=True)
