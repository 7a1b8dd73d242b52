"""English: ISO days in tables and lines (2026-11-28), the weekday spelled out in headings."""

DATE_FORMAT = "l j F Y"  # Wednesday 2 December 2026: the Today heading, dates in emails
SHORT_DATE_FORMAT = "Y-m-d"  # tables, "due 2026-11-28"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
DATETIME_FORMAT = "j F Y H:i"
YEAR_MONTH_FORMAT = "F Y"  # a month as a heading: November 2026
MONTH_DAY_FORMAT = "j F"
