"""How hard a text is to read: the Flesch-Kincaid grade the patient advice is held to (an
eleven-year-old reads grade 6)."""

from __future__ import annotations

import re


def syllables(word: str) -> int:
    word = word.lower().strip(".,!?")
    groups = re.findall(r"[aeiouy]+", word)
    count = len(groups) - (1 if word.endswith("e") and len(groups) > 1 else 0)
    return max(1, count)


def flesch_kincaid_grade(text: str) -> float:
    sentences = max(1, len(re.findall(r"[.!?]+", text)))
    words = re.findall(r"[A-Za-z0-9']+", text)
    total = sum(syllables(word) for word in words)
    return 0.39 * len(words) / sentences + 11.8 * total / len(words) - 15.59
