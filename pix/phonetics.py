"""Phonetic codes for patient-name matching in PDQ (ITI-21): Kölner Phonetik and Soundex.

Kölner Phonetik (Hans Joachim Postel, 1969) is made for German names: Müller, Mueller and Möller share the
code 657. American Soundex (as the US National Archives define it) suits names of English origin. Both take
any text; characters that are not letters are skipped. Codes are stored with each patient, so a phonetic
search is an indexed equality comparison.
"""

from __future__ import annotations

import unicodedata

_VOWELS = frozenset("AEIJOUYÄÖÜ")
# Kölner Phonetik: C is 4 before these letters (at the start of a word) ...
_C_HARD_AT_START = frozenset("AHKLOQRUX")
# ... and elsewhere before these, unless it follows S or Z.
_C_HARD = frozenset("AHKOQUX")


def _letters(text: str) -> str:
    upper = text.upper().replace("ß", "SS")
    return "".join(char for char in upper if char.isalpha())


def _koelner_digit(word: str, i: int) -> str:
    char = word[i]
    prev = word[i - 1] if i > 0 else ""
    nxt = word[i + 1] if i + 1 < len(word) else ""
    if char in _VOWELS:
        return "0"
    if char == "H":
        return ""
    if char == "B":
        return "1"
    if char == "P":
        return "3" if nxt == "H" else "1"
    if char in "DT":
        return "8" if nxt in ("C", "S", "Z") else "2"
    if char in "FVW":
        return "3"
    if char in "GKQ":
        return "4"
    if char == "C":
        if i == 0:
            return "4" if nxt in _C_HARD_AT_START else "8"
        return "4" if nxt in _C_HARD and prev not in ("S", "Z") else "8"
    if char == "X":
        return "8" if prev in ("C", "K", "Q") else "48"
    if char == "L":
        return "5"
    if char in "MN":
        return "6"
    if char == "R":
        return "7"
    if char in "SZ":
        return "8"
    return ""  # letters of other alphabets: no code


def koelner(text: str) -> str:
    """The Kölner Phonetik code of ``text`` ("" when it holds no letter), e.g. Müller -> 657."""
    word = _letters(text)
    digits = "".join(_koelner_digit(word, i) for i in range(len(word)))
    collapsed: list[str] = []
    for digit in digits:
        if not collapsed or collapsed[-1] != digit:
            collapsed.append(digit)
    # "0" (vowels) stays only as the first digit
    return "".join(d for i, d in enumerate(collapsed) if d != "0" or i == 0)


_SOUNDEX = {
    **dict.fromkeys("BFPV", "1"),
    **dict.fromkeys("CGJKQSXZ", "2"),
    **dict.fromkeys("DT", "3"),
    "L": "4",
    **dict.fromkeys("MN", "5"),
    "R": "6",
}


def soundex(text: str) -> str:
    """American Soundex of ``text`` (letter + 3 digits, e.g. Robert -> R163); "" when it holds no letter.

    Accented letters lose their accent first (Müller -> MULLER -> M460).
    """
    ascii_text = unicodedata.normalize("NFKD", text.upper().replace("ß", "SS"))
    word = "".join(char for char in ascii_text if "A" <= char <= "Z")
    if not word:
        return ""
    code = [word[0]]
    last = _SOUNDEX.get(word[0], "")
    for char in word[1:]:
        digit = _SOUNDEX.get(char, "")
        if digit and digit != last:
            code.append(digit)
        if char not in "HW":  # H and W do not separate letters of the same code; vowels do
            last = digit
        if len(code) == 4:
            break
    return "".join(code).ljust(4, "0")
