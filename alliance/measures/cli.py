"""`alliance score|change|outcomes|instruments`: the measures command line.

Results go to stdout as JSON (CSV for `outcomes`); messages go to stderr.
Exit codes: 0 success, 2 bad usage or bad input (unknown instrument, wrong
number of answers, out-of-range answer, malformed CSV row...).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

from alliance.measures.change import classify, cutoffs, reliable_change, threshold_change
from alliance.measures.errors import InstrumentFileError, MeasuresError, UnknownInstrument
from alliance.measures.fhir import import_questionnaire
from alliance.measures.import_rules import (
    RuleError,
    RuleSpecs,
    check_bands,
    parse_band,
    parse_number,
    parse_risk,
)
from alliance.measures.loader import parse_instrument, read_json
from alliance.measures.model import Instrument
from alliance.measures.nhs import summarise
from alliance.measures.outcomes import episode_outcomes, read_rows, write_outcomes
from alliance.measures.registry import clear_cache, get_instrument, registry, user_instruments_dir
from alliance.measures.schema import ALLIANCE_KEY

EXIT_OK = 0
EXIT_USAGE = 2
MISSING_MARKERS = {"-", ""}


class UsageError(Exception):
    """Bad command-line input: reported on stderr with exit code 2."""


class _Parser(argparse.ArgumentParser):
    # argparse would call sys.exit(); main() must return the code instead.
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def _tidy(data: Any) -> Any:
    """18.0 -> 18, so whole scores read as people write them."""
    if isinstance(data, float) and data.is_integer():
        return int(data)
    if isinstance(data, dict):
        return {k: _tidy(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_tidy(v) for v in data]
    return data


def _print_json(data: Any, stream: IO[str]) -> None:
    try:
        # Strict JSON: NaN and Infinity are not JSON, and a result holding them means an input
        # was unusable (an SD so small that the change is infinitely reliable).
        text = json.dumps(_tidy(data), ensure_ascii=False, indent=2, allow_nan=False)
    except ValueError:
        raise UsageError(
            "the result is not a finite number: an input is too large or too small"
        ) from None
    stream.write(text + "\n")


def _one_line(message: str) -> str:
    """A message that quotes the user's input stays on one line, and a terminal escape in that input
    is shown, not obeyed: unprintable characters are written as Python escapes."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in message)


def _finite(text: str) -> float:
    """argparse type for numbers: `nan`, `inf` and overflowing values are refused by name."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _instrument(instrument_id: str) -> Instrument:
    try:
        return get_instrument(instrument_id)
    except UnknownInstrument as exc:
        raise UsageError(str(exc)) from None


# --- score ---------------------------------------------------------------------------------


def _cmd_score(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    instrument = _instrument(args.instrument)
    items = instrument.items
    last_scored = max((i for i, item in enumerate(items) if item.scored), default=-1)
    fewest, most = last_scored + 1, len(items)
    given = list(args.answers)
    if not fewest <= len(given) <= most:
        expected = str(most) if fewest == most else f"{fewest} to {most}"
        raise UsageError(
            f"{instrument.id} takes {expected} answers in item order "
            f"({', '.join(i.link_id for i in items)}); got {len(given)}. "
            "Use - for a missing answer."
        )
    answers = {
        item.link_id: (None if value.strip() in MISSING_MARKERS else value)
        for item, value in zip(items, given, strict=False)
    }
    result = instrument.score(answers, lang=args.lang)
    for flag in result.risk_flags:
        err.write(f"RISK ({flag.level}) item {flag.item}: {flag.message}\n")
    if result.invalid:
        for link_id, problem in result.invalid.items():
            err.write(_one_line(f"{instrument.id}: item {link_id}: {problem}") + "\n")
        return EXIT_USAGE
    _print_json(result.as_dict(), out)
    return EXIT_OK


# --- change ---------------------------------------------------------------------------------


def _cmd_change(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    instrument = _instrument(args.instrument) if args.instrument else None
    rule = instrument.rules.reliable_change if instrument else None
    higher_is_better = bool(args.higher_is_better)
    if instrument is not None:
        if instrument.rules.total_range is None:
            raise UsageError(f"{instrument.id} has no score (open questions only)")
        inst_better = instrument.direction == "higher_is_better"
        if args.higher_is_better and not inst_better:
            raise UsageError(f"--higher-is-better contradicts {instrument.id} (higher is worse)")
        higher_is_better = inst_better
        lo, hi = instrument.rules.total_range
        for name, value in (("--before", args.before), ("--after", args.after)):
            if not lo <= value <= hi:
                raise UsageError(
                    f"{name} {value:g} is outside {instrument.id}'s range {lo:g}-{hi:g}"
                )
    if (args.sd is None) != (args.reliability is None):
        raise UsageError("give --sd and --reliability together")
    sd = args.sd if args.sd is not None else (rule.sd if rule else None)
    reliability = (
        args.reliability if args.reliability is not None else (rule.reliability if rule else None)
    )
    if sd is not None and sd <= 0:
        raise UsageError("--sd must be positive")
    if reliability is not None and not 0 <= reliability < 1:
        raise UsageError("--reliability must be at least 0 and below 1")

    jt = (
        reliable_change(args.before, args.after, sd, reliability, higher_is_better=higher_is_better)
        if sd is not None and reliability is not None
        else None
    )
    th = (
        threshold_change(
            args.before,
            args.after,
            rule.threshold,
            higher_is_better=higher_is_better,
            source=rule.source,
            unverified=rule.unverified,
        )
        if rule is not None and rule.threshold is not None
        else None
    )
    # Explicit --sd/--reliability means the caller wants Jacobson-Truax.
    primary = jt if (jt is not None and (args.sd is not None or th is None)) else th
    if primary is None:
        what = instrument.id if instrument else "a scale without --instrument"
        raise UsageError(f"no reliable-change rule for {what}: give --sd and --reliability")
    report: dict[str, Any] = {
        "instrument": instrument.id if instrument else None,
        "before": args.before,
        "after": args.after,
        "change": args.after - args.before,
        "higher_is_better": higher_is_better,
        "method": primary.method,
        "reliable": primary.reliable,
        "outcome": primary.outcome,
        "threshold": th.as_dict() if th else None,
        "jacobson_truax": jt.as_dict() if jt else None,
    }
    if primary.method == "threshold" and th is not None and th.unverified:
        report["warning"] = f"UNVERIFIED default threshold: {th.source}"
    if args.cutoffs:
        m_clin, sd_clin, m_func, sd_func = args.cutoffs
        try:
            cuts = cutoffs(m_clin, sd_clin, m_func, sd_func, higher_is_better=higher_is_better)
        except ValueError as exc:
            raise UsageError(f"--cutoffs: {exc}") from None
        report["cutoffs"] = cuts.as_dict()
        report["clinical_significance"] = {
            "cutoff_used": "c",
            "category": classify(primary, cuts.c, higher_is_better=higher_is_better),
        }
    _print_json(report, out)
    return EXIT_OK


# --- outcomes -------------------------------------------------------------------------------


def _cmd_outcomes(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    source = args.file
    try:
        if source == "-":
            rows, skipped = read_rows(
                sys.stdin, "<stdin>", ignore_other_instruments=args.ignore_other_instruments
            )
        else:
            with Path(source).open(encoding="utf-8-sig", newline="") as handle:
                rows, skipped = read_rows(
                    handle, source, ignore_other_instruments=args.ignore_other_instruments
                )
    except OSError as exc:
        raise UsageError(f"{source}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{source}: not UTF-8 text (save the CSV as UTF-8)") from None
    outcomes = episode_outcomes(rows)
    if args.output:
        with Path(args.output).open("w", encoding="utf-8", newline="") as handle:
            write_outcomes(outcomes, handle)
    else:
        write_outcomes(outcomes, out)
    summary = summarise(outcomes).as_dict()
    summary["rows"] = len(rows)
    summary["rows_skipped_other_instruments"] = skipped
    if args.summary:
        with Path(args.summary).open("w", encoding="utf-8") as handle:
            _print_json(summary, handle)
    else:
        _print_json(summary, err)
    return EXIT_OK


# --- instruments -----------------------------------------------------------------------------


def _summary(instrument: Instrument) -> dict[str, Any]:
    return {
        "id": instrument.id,
        "version": instrument.version,
        "title": instrument.title(),
        "respondent": instrument.respondent,
        "languages": list(instrument.languages),
        "validated": instrument.validated,
        "origin": "shipped" if instrument.shipped else "user",
        "source": instrument.source,
    }


def _detail(instrument: Instrument, lang: str) -> dict[str, Any]:
    rules = instrument.rules
    items = []
    for item in instrument.items:
        entry: dict[str, Any] = {
            "linkId": item.link_id,
            "kind": item.kind,
            "text": item.texts.get(lang),
            "required": item.required,
            "scored": item.scored,
        }
        if item.loinc:
            entry["loinc"] = item.loinc
        if item.options:
            entry["options"] = [
                {"value": o.value, "code": o.code, "label": o.label(lang)} for o in item.options
            ]
        if item.kind == "integer":
            entry.update(
                min=item.min_value,
                max=item.max_value,
                anchor_low=item.anchor_low(lang),
                anchor_high=item.anchor_high(lang),
            )
        if item.enable_when:
            entry["enable_when"] = {
                "behavior": item.enable_behavior,
                "conditions": [
                    {"question": c.question, "operator": c.operator, "answer": c.answer}
                    for c in item.enable_when
                ],
            }
        items.append(entry)
    rc = rules.reliable_change
    return {
        **_summary(instrument),
        "title": instrument.title(lang),
        "instructions": instrument.instructions(lang),
        "validation_note": instrument.validation_note.get(lang)
        if instrument.validation_note
        else None,
        "licence": instrument.licence,
        "citation": instrument.citation,
        "notes": list(instrument.notes),
        "items": items,
        "scoring": {
            "method": rules.method,
            "items": list(rules.items),
            "reversed": sorted(rules.reversed),
            "range": list(rules.total_range) if rules.total_range else None,
            "direction": rules.direction,
            "missing": {
                "max_missing": rules.missing.max_missing,
                "rounding": rules.missing.rounding,
                "source": rules.missing.source,
                "unverified": rules.missing.unverified,
            },
            "subscales": [
                {"id": s.id, "label": s.label(lang), "items": list(s.items)}
                for s in rules.subscales
            ],
            "bands": [
                {"key": b.key, "min": b.min, "max": b.max, "label": b.label(lang)}
                for b in rules.bands
            ],
            "cutoff": (
                {
                    "value": rules.cutoff.value,
                    "clinical": rules.cutoff.clinical,
                    "source": rules.cutoff.source,
                }
                if rules.cutoff
                else None
            ),
            "reliable_change": (
                {
                    "threshold": rc.threshold,
                    "sd": rc.sd,
                    "reliability": rc.reliability,
                    "source": rc.source,
                    "unverified": rc.unverified,
                }
                if rc
                else None
            ),
        },
        "risk": [
            {
                "item": r.item,
                "operator": r.operator,
                "value": r.value,
                "level": r.level,
                "message": r.messages.get(lang),
            }
            for r in instrument.risk_rules
        ],
    }


def _cmd_instruments(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    if args.action == "list":
        reg = registry()
        for problem in reg.problems:
            err.write(f"warning: {problem}\n")
        _print_json([_summary(i) for i in reg.all()], out)
        return EXIT_OK
    if args.action == "show":
        instrument = _instrument(args.id)
        if args.fhir:
            _print_json({k: v for k, v in instrument.fhir.items() if k != ALLIANCE_KEY}, out)
        else:
            _print_json(_detail(instrument, args.lang), out)
        return EXIT_OK
    return _import(args, out, err)


def _import(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    target_dir = user_instruments_dir()
    if target_dir is None:
        raise UsageError(
            "set ALLIANCE_INSTRUMENTS_DIR (or ALLIANCE_DATA_DIR) to say where user instruments live"
        )
    source = Path(args.file)
    rules = scoring_options(args)
    try:
        data = read_json(source)
        imported = import_questionnaire(
            data,
            instrument_id=args.id,
            source=str(source),
            higher_is_better=args.higher_is_better,
            respondent=args.respondent,
            max_missing=args.max_missing,
            rules=rules,
            use_shipped_rules=not args.no_shipped_rules,
        )
    except InstrumentFileError as exc:
        raise UsageError(str(exc)) from None
    instrument = imported.instrument
    reg = registry()
    if instrument.id in reg.shipped_ids:
        raise UsageError(
            f"{instrument.id!r} is a shipped instrument and cannot be replaced; "
            "import it with --id OTHER"
        )
    target = target_dir / f"{instrument.id}.json"
    if target.exists() and not args.force:
        raise UsageError(f"{target} already exists; use --force to replace it")
    text = json.dumps(imported.document, ensure_ascii=False, indent=2) + "\n"
    try:
        # Prove the file as it will be written loads the way the registry will load it.
        parse_instrument(json.loads(text), source=str(target), expected_id=instrument.id)
    except InstrumentFileError as exc:
        raise UsageError(str(exc)) from None
    target_dir.mkdir(parents=True, exist_ok=True)
    tmp = target_dir / f".{instrument.id}.json.tmp"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)  # atomic: a reader never sees half a file
    clear_cache()
    for warning in imported.warnings:
        err.write(_one_line(f"warning: FHIR conformance: {warning}") + "\n")
    for message in imported.messages:
        err.write(_one_line(message) + "\n")
    match = imported.match
    rules_ = instrument.rules
    _print_json(
        {
            "imported": instrument.id,
            "path": str(target),
            "title": instrument.title(),
            "scored_items": list(rules_.items),
            "validated": instrument.validated,
            "bands": [b.key for b in rules_.bands],
            "cutoff": rules_.cutoff.value if rules_.cutoff else None,
            "reliable_change": rules_.reliable_change.threshold if rules_.reliable_change else None,
            "risk_items": [f"{r.item}{r.operator}{r.value:g}" for r in instrument.risk_rules],
            "shipped_match": (
                {
                    "instrument": match.shipped_id,
                    "loinc": match.panel,
                    "matched": match.matched,
                    "paired_by": match.how,
                    "differences": list(match.differences),
                }
                if match
                else None
            ),
            "messages": list(imported.messages),
            "fhir_conformance_warnings": len(imported.warnings),
            "review": "Check the 'alliance' block (scoring, bands, cut-off, risk, licence) "
            "before clinical use.",
        },
        out,
    )
    return EXIT_OK


def scoring_options(args: argparse.Namespace) -> RuleSpecs:
    """The scoring-rule options of `instruments import`, parsed (alliance.measures.import_rules)."""
    try:
        bands = tuple(parse_band(text) for text in args.band or ())
        check_bands(bands)
        return RuleSpecs(
            bands=bands,
            cutoff=parse_number(args.cutoff, "--cutoff") if args.cutoff is not None else None,
            reliable_change=(
                parse_number(args.reliable_change, "--reliable-change", positive=True)
                if args.reliable_change is not None
                else None
            ),
            risk=tuple(parse_risk(text) for text in args.risk_item or ()),
        )
    except RuleError as exc:
        raise UsageError(str(exc)) from None


# --- parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="alliance", description="Alliance measures: scoring, change and outcomes."
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    score = sub.add_parser("score", help="score one response; answers in item order, - for missing")
    score.add_argument("instrument")
    score.add_argument(
        "answers", nargs="*", help="answers in item order; '-' or '' for a missing answer"
    )
    score.add_argument("--lang", default="en", help="language for labels and messages (default en)")
    score.set_defaults(handler=_cmd_score)

    change = sub.add_parser("change", help="reliable change between two scores")
    change.add_argument(
        "--instrument", help="use this instrument's direction and reliable-change rule"
    )
    change.add_argument("--before", type=_finite, required=True)
    change.add_argument("--after", type=_finite, required=True)
    change.add_argument("--sd", type=_finite, help="standard deviation of the reference sample")
    change.add_argument("--reliability", type=_finite, help="reliability (e.g. Cronbach's alpha)")
    change.add_argument(
        "--higher-is-better", action="store_true", help="for scales without --instrument"
    )
    change.add_argument(
        "--cutoffs",
        type=_finite,
        nargs=4,
        metavar=("M_CLIN", "SD_CLIN", "M_FUNC", "SD_FUNC"),
        help="also compute Jacobson-Truax cut-offs a, b, c and the clinical-significance category",
    )
    change.set_defaults(handler=_cmd_change)

    outcomes = sub.add_parser(
        "outcomes", help="NHS Talking Therapies outcome flags per episode from a CSV"
    )
    outcomes.add_argument(
        "file", help="CSV with episode,date,instrument,total,attended ('-' for stdin)"
    )
    outcomes.add_argument("-o", "--output", help="write the per-episode CSV here instead of stdout")
    outcomes.add_argument("--summary", help="write the summary JSON here instead of stderr")
    outcomes.add_argument(
        "--ignore-other-instruments",
        action="store_true",
        help="skip rows that are not phq9 or gad7",
    )
    outcomes.set_defaults(handler=_cmd_outcomes)

    inst = sub.add_parser("instruments", help="list, show or import instruments")
    actions = inst.add_subparsers(dest="action", required=True, parser_class=_Parser)
    actions.add_parser("list", help="list the available instruments")
    show = actions.add_parser("show", help="show one instrument")
    show.add_argument("id")
    show.add_argument("--lang", default="en")
    show.add_argument("--fhir", action="store_true", help="print the FHIR Questionnaire itself")
    imp = actions.add_parser(
        "import", help="validate a FHIR Questionnaire or instrument file and add it"
    )
    imp.add_argument("file")
    imp.add_argument("--id", help="instrument id (default: from the file)")
    imp.add_argument(
        "--higher-is-better", action="store_true", help="for a plain FHIR Questionnaire"
    )
    imp.add_argument("--respondent", choices=("client", "therapist"), default="client")
    imp.add_argument(
        "--max-missing", type=int, default=0, help="items that may be prorated (default 0)"
    )
    imp.add_argument(
        "--force", action="store_true", help="replace an existing user file with the same id"
    )
    imp.add_argument(
        "--band",
        action="append",
        metavar="KEY:MIN-MAX[:LABEL]",
        help="a score band, lowest first; repeat for each band (they must cover the whole range)",
    )
    imp.add_argument("--cutoff", metavar="N", help="clinical cut-off (the worse side is clinical)")
    imp.add_argument(
        "--reliable-change",
        metavar="N",
        help="smallest change in the total that counts as reliable",
    )
    imp.add_argument(
        "--risk-item",
        action="append",
        metavar="LINKID>N",
        help="an answer that raises the urgent risk flag, e.g. 9>0 (also >=, =, !=); repeatable",
    )
    imp.add_argument(
        "--no-shipped-rules",
        action="store_true",
        help="do not take a matching shipped instrument's rules (PHQ-9, GAD-7 by LOINC code)",
    )
    inst.set_defaults(handler=_cmd_instruments)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
        result: int = args.handler(args, out, err)
        return result
    except UsageError as exc:
        err.write(f"{_one_line(str(exc))}\n")
        return EXIT_USAGE
    except MeasuresError as exc:
        err.write(f"error: {_one_line(str(exc))}\n")
        return EXIT_USAGE
    except SystemExit as exc:  # --help and --version exit through argparse
        return int(exc.code or 0)


if __name__ == "__main__":
    raise SystemExit(main())
