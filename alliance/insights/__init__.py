"""Insights on the Django side: the clinic's rows in, the pure analytics' report out (issue 11).

`records` reads the database into `alliance.analytics.records.ClinicData` with export pseudonyms
for ids; `report` assembles the JSON of `alliance report`; `exports` writes the per-response CSV;
`command` holds the command's options and its database-free route (`alliance report --responses`).
Only `records`, `pseudonyms` and the management command touch Django, so this package's import
does not set Django up (`alliance.cli` relies on it).
"""
