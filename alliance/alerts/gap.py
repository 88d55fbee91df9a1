"""Rule 4 — perspective gap: the therapist rated the session higher than the client did.

Clients often keep negative reactions to a session to themselves, so a therapist whose view is
rosier than the client's may miss a rupture (Eubanks, Muran & Safran 2018). The trigger is the
check-in *total*: therapist total - client total ≥ ``gap_min_points`` (default 2 on 0-10).
Single dimensions are not triggers — with one integer item each they are noisy — but their gaps
are reported in the evidence and the explanation names the largest, to say where to look.

One finding per episode (``perspective_gap:ep<id>``): ``info`` for a gap in a single session,
``yellow`` once the gap appears in ``gap_persistent_sessions`` consecutive sessions rated by
both (default 2). It is dated at the session where it reached its current severity.
"""

from __future__ import annotations

from ._text import EPS, measure_phrase, r3
from .findings import JSON, Finding, Severity, make_key
from .message import N_, Msg, alert_text, msg, number, sessions, signed
from .settings import AlertSettings
from .suggestions import suggestion_for
from .types import EpisodeSeries, Session


def _gap(session: Session) -> float | None:
    client, therapist = session.client_checkin, session.therapist_checkin
    if client is None or therapist is None or client.total is None or therapist.total is None:
        return None
    return therapist.total - client.total


def _dimension_gaps(session: Session, settings: AlertSettings) -> dict[str, float]:
    client, therapist = session.client_checkin, session.therapist_checkin
    assert client is not None and therapist is not None
    out: dict[str, float] = {}
    for dim in settings.rupture_dimensions:
        c, t = client.dims.get(dim), therapist.dims.get(dim)
        if c is not None and t is not None:
            out[dim] = t - c
    return out


def perspective_gap_findings(series: EpisodeSeries, settings: AlertSettings) -> list[Finding]:
    rated = [(s, g) for s in series.sessions if (g := _gap(s)) is not None]
    flags = [g >= settings.gap_min_points - EPS for _, g in rated]
    if not any(flags):
        return []
    # Where does the run of consecutive gaps first reach the persistence length?
    run, persistent_at = 0, None
    for i, flag in enumerate(flags):
        run = run + 1 if flag else 0
        if run >= settings.gap_persistent_sessions and persistent_at is None:
            persistent_at = i
    severity: Severity = "yellow" if persistent_at is not None else "info"
    at = persistent_at if persistent_at is not None else flags.index(True)
    gap_rows = [(s, g) for (s, g), flag in zip(rated, flags, strict=True) if flag]

    session, gap = rated[at]
    assert session.client_checkin is not None and session.therapist_checkin is not None
    assert session.client_checkin.total is not None
    assert session.therapist_checkin.total is not None
    dims = _dimension_gaps(session, settings)
    largest = sorted((d for d in dims.items() if d[1] > EPS), key=lambda d: (-d[1], d[0]))[:2]
    text: list[Msg] = [
        msg(
            N_(
                "At session {n} you rated the session {therapist} and the client rated it {client} "
                "(a gap of {gap} points; threshold {threshold})."
            ),
            n=session.number,
            therapist=number(session.therapist_checkin.total),
            client=number(session.client_checkin.total),
            gap=number(gap),
            threshold=number(settings.gap_min_points),
        )
    ]
    if largest:
        differences = [
            msg(N_("{measure} {difference}"), measure=measure_phrase(d), difference=signed(v, 0))
            for d, v in largest
        ]
        listed = differences[0]
        for more in differences[1:]:
            listed = msg(N_("{earlier}, {later}"), earlier=listed, later=more)
        text.append(msg(N_("Largest differences: {differences}."), differences=listed))
    if severity == "yellow":
        text.append(
            msg(
                N_("The gap has appeared in {n} consecutive sessions rated by both of you."),
                n=settings.gap_persistent_sessions,
            )
        )
    text.append(
        msg(N_("Gaps so far: {sessions}."), sessions=sessions([s.number for s, _ in gap_rows]))
    )
    rows: list[JSON] = [
        {
            "session": s.number,
            "therapist_total": r3(s.therapist_checkin.total),
            "client_total": r3(s.client_checkin.total),
            "gap": r3(g),
            "dimension_gaps": {d: r3(v) for d, v in _dimension_gaps(s, settings).items()},
        }
        for s, g in gap_rows
        if s.therapist_checkin is not None
        and s.client_checkin is not None
        and s.therapist_checkin.total is not None
        and s.client_checkin.total is not None
    ]
    evidence: dict[str, JSON] = {
        "threshold": r3(settings.gap_min_points),
        "persistent_sessions": settings.gap_persistent_sessions,
        "gap_sessions": rows,
        "sessions_rated_by_both": len(rated),
        "latest_rated_session": rated[-1][0].number,
        "latest_gap": r3(rated[-1][1]),
    }
    return [
        Finding(
            kind="perspective_gap",
            severity=severity,
            key=make_key("perspective_gap", series.episode_id),
            session_number=session.number,
            appointment_id=session.appointment_id,
            **alert_text(
                title=Msg(N_("You saw the session more positively than the client")),
                explanation=text,
                suggestion=suggestion_for("perspective_gap").message,
                evidence=evidence,
            ),
            episode_id=series.episode_id,
            dimensions=tuple(d for d, _ in largest),
        )
    ]
