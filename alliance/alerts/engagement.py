"""Rule 7 — disengagement: late cancellations, check-ins stopping, and (optionally) no-shows.

Weaker engagement and alliance go with dropout (Sharf et al. 2010). Variants, all ``yellow``:

- ``late_cancel`` — at least ``late_cancel_count`` late cancellations among the last
  ``late_cancel_window`` past appointments (``scheduled`` ones are not past). Evaluated after
  each appointment; a stretch of consecutive appointments where this holds is one finding,
  keyed by the session where it began: ``disengagement:ep<id>:late_cancel:s<n>``. A later,
  separate stretch is a new alert.
- ``checkins_stopped`` — ``missing_checkin_sessions`` consecutive attended sessions without a
  client check-in, after the client has completed at least one (a client who never used the
  check-in has not *stopped*). Keyed by the first session without one:
  ``disengagement:ep<id>:checkins_stopped:s<n>``; evidence says if check-ins resumed.
- ``no_show`` — only when ``no_show_as = "disengagement"``; by default a no-show is a rupture
  marker (see ``rupture.py``). Keyed ``disengagement:ep<id>:no_show:s<n>``.
"""

from __future__ import annotations

from collections.abc import Sequence

from .findings import JSON, Finding, make_key
from .message import N_, Msg, alert_text, msg, sessions
from .settings import AlertSettings
from .suggestions import suggestion_for
from .types import EpisodeSeries, Session


def disengagement_findings(series: EpisodeSeries, settings: AlertSettings) -> list[Finding]:
    findings = _late_cancel(series, settings) + _checkins_stopped(series, settings)
    if settings.no_show_as == "disengagement":
        findings += _no_shows(series)
    return findings


def _finding(
    series: EpisodeSeries,
    variant: str,
    key_session: Session,
    at: Session,
    title: str,
    text: Msg | list[Msg],
    evidence: dict[str, JSON],
) -> Finding:
    return Finding(
        kind="disengagement",
        severity="yellow",
        key=make_key("disengagement", series.episode_id, variant, f"s{key_session.number}"),
        session_number=at.number,
        appointment_id=at.appointment_id,
        **alert_text(
            title=Msg(title),
            explanation=text,
            suggestion=suggestion_for("disengagement", variant).message,
            evidence={"variant": variant, **evidence},
        ),
        episode_id=series.episode_id,
    )


def _late_cancel(series: EpisodeSeries, settings: AlertSettings) -> list[Finding]:
    past = [s for s in series.sessions if s.attendance != "scheduled"]
    window, needed = settings.late_cancel_window, settings.late_cancel_count
    runs: list[tuple[int, int]] = []  # (start index, end index) in ``past``
    for i in range(len(past)):
        recent = past[max(0, i - window + 1) : i + 1]
        met = sum(s.attendance == "late_cancel" for s in recent) >= needed
        if met and runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        elif met:
            runs.append((i, i))
    findings: list[Finding] = []
    for start, end in runs:
        span = past[max(0, start - window + 1) : end + 1]
        cancelled = [s.number for s in span if s.attendance == "late_cancel"]
        text = msg(
            N_(
                "{n} late cancellations ({sessions}); the alert is raised at {needed} or more "
                "within the last {window} appointments."
            ),
            n=len(cancelled),
            sessions=sessions(cancelled),
            needed=needed,
            window=window,
        )
        evidence: dict[str, JSON] = {
            "late_cancelled_sessions": list(cancelled),
            "count_needed": needed,
            "window": window,
            "through_session": past[end].number,
        }
        findings.append(
            _finding(
                series,
                "late_cancel",
                past[start],
                past[start],
                N_("Repeated late cancellations"),
                text,
                evidence,
            )
        )
    return findings


def _checkins_stopped(series: EpisodeSeries, settings: AlertSettings) -> list[Finding]:
    needed = settings.missing_checkin_sessions
    findings: list[Finding] = []
    seen_checkin = False
    run: list[Session] = []

    def close_run(resumed: Session | None) -> None:
        if len(run) >= needed:
            findings.append(_stopped_finding(series, run, needed, resumed))

    for session in series.sessions:
        if session.client_checkin is not None:
            close_run(session if run else None)
            run = []
            seen_checkin = True
        elif session.attendance == "attended" and seen_checkin:
            run.append(session)
    close_run(None)
    return findings


def _stopped_finding(
    series: EpisodeSeries, run: Sequence[Session], needed: int, resumed: Session | None
) -> Finding:
    numbers = [s.number for s in run]
    text = [
        msg(
            N_(
                "No client check-in at {sessions}, attended in a row, after the client had been "
                "completing it (the alert is raised after {needed})."
            ),
            sessions=sessions(numbers),
            needed=needed,
        )
    ]
    if resumed is not None:
        text.append(msg(N_("Check-ins resumed at session {n}."), n=resumed.number))
    evidence: dict[str, JSON] = {
        "sessions_without_checkin": list(numbers),
        "count_needed": needed,
        "resumed_at": None if resumed is None else resumed.number,
    }
    return _finding(
        series,
        "checkins_stopped",
        run[0],
        run[needed - 1],
        N_("The client has stopped completing check-ins"),
        text,
        evidence,
    )


def _no_shows(series: EpisodeSeries) -> list[Finding]:
    return [
        _finding(
            series,
            "no_show",
            s,
            s,
            N_("Missed session without notice"),
            msg(
                N_(
                    "Session {n} was missed without notice. A missed session is relationship "
                    "material, not only an administrative event."
                ),
                n=s.number,
            ),
            {"session": s.number},
        )
        for s in series.sessions
        if s.attendance == "no_show"
    ]
