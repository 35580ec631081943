"""Hostile names the sample generators mix into projects, tasks, boards and cards."""

from __future__ import annotations

HOSTILE_NAMES: list[str] = [
    'a/b\\c:d*e?f"g<h>i|j',
    "Launch 🚀 plan 🎉",
    "L" + "o" * 298 + "ng",  # 300 characters
    "   ",
    "",
    "  leading and trailing  ",
    "خطة المشروع",  # right-to-left
    "tab\there",
    "Design",  # exact duplicates among siblings
    "Design",
    "report.final.docx",
    "Ünïcödé naïve café",
]
