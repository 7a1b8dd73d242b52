"""Date formats per language (settings.FORMAT_MODULE_PATH), over Django's own. Templates name
them, never a pattern: `{{ day|date:"SHORT_DATE_FORMAT" }}` is 2026-11-28 in English and
2026年11月28日 in Chinese. Numbers and money keep one form (csm.lib.numbers: "¥1,235", "12.5%"),
which is also how Chinese finance writes them."""
