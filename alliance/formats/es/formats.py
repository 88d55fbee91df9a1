"""Spanish: lower-case month and weekday abbreviations ("sáb 5 dic 2026"), as Spanish writes them;
"de" in the long forms ("sábado 5 de diciembre")."""

DATE_FORMAT = "j b Y"
DATETIME_FORMAT = "D j b Y, H:i"
SHORT_DATE_FORMAT = "j b"
SHORT_DATETIME_FORMAT = "D j b, H:i"
MONTH_DAY_FORMAT = r"l j \d\e F"
YEAR_MONTH_FORMAT = r"F \d\e Y"
TIME_FORMAT = "H:i"
# Date fields are <input type="date">, whose value must be ISO: Django's Spanish module would render
# "05/12/2026", which the browser discards, leaving the field empty.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M"]
