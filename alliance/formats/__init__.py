"""Alliance's date and number formats per language (settings.FORMAT_MODULE_PATH).

Templates name a format ("DATE_FORMAT", "SHORT_DATETIME_FORMAT", ...) and never spell one out, so a
page in Spanish reads "sáb 5 dic 2026, 10:00" where the English one reads "Sat 5 Dec 2026, 10:00".
What each name means in Alliance (Django's own defaults for these languages differ):

- DATE_FORMAT            a day, with its year                  5 Dec 2026
- DATETIME_FORMAT        a moment, with weekday and year       Sat 5 Dec 2026, 10:00
- SHORT_DATE_FORMAT      a day this year, in a table           5 Dec
- SHORT_DATETIME_FORMAT  an appointment soon, in a list        Sat 5 Dec, 10:00
- MONTH_DAY_FORMAT       a day heading in the agenda           Saturday 5 December
- YEAR_MONTH_FORMAT      a month                               December 2026
- TIME_FORMAT            a time of day                         10:00

Anything not set here (decimal separator, first day of the week, ...) comes from Django's own module
for the language. docs/translating.md says how to add a language.
"""
