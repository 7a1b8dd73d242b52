"""Simplified Chinese: 2026年11月28日 everywhere a date is read; the weekday after the date in
headings. The inputs read and write ISO first: an <input type="date"> shows only a value in
that form (Django's own zh_Hans formats put 2026/11/28 first)."""

DATE_FORMAT = "Y年n月j日 l"  # 2026年12月2日 星期三
SHORT_DATE_FORMAT = "Y年n月j日"
SHORT_DATETIME_FORMAT = "Y年n月j日 H:i"
DATETIME_FORMAT = "Y年n月j日 H:i"
YEAR_MONTH_FORMAT = "Y年n月"
MONTH_DAY_FORMAT = "n月j日"
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y/%m/%d"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M"]
