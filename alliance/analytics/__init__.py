"""Clinic analytics on plain data: rates with intervals, effect sizes, the relationship model,
the check-in's own psychometrics, therapist variation and alert quality.

PURE Python like `alliance.measures` and `alliance.alerts`: no Django import (an import-linter
contract enforces it), so the same numbers come from the web pages, `alliance report` on the
database, and `alliance report --responses FILE.csv` on an export. The Django side
(`alliance.insights`) only turns rows into the records of `alliance.analytics.records`.
"""
