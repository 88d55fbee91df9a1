"""English: day before month, 24-hour clock (the clinic's own notation, not the US one)."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "D j M Y, H:i"
SHORT_DATE_FORMAT = "j M"
SHORT_DATETIME_FORMAT = "D j M, H:i"
MONTH_DAY_FORMAT = "l j F"
YEAR_MONTH_FORMAT = "F Y"
TIME_FORMAT = "H:i"
# Date fields are <input type="date">, whose value is always ISO whatever the page's language.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]
