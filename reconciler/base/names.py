"""Fuzzy matching of names: Sherweb customers and products to QuickBooks names.

Names are compared after normalisation (case, accents, punctuation, "&",
legal suffixes such as Inc, LLC or Ltd), by the edit-distance ratio of the
names and of their sorted words, whichever is higher (rapidfuzz: difflib's
kind of ratio, fast enough for thousands of QuickBooks customers). Pairs are
then assigned one to one, best score first, so that one QuickBooks customer
never receives two organizations by accident.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

# Close enough to propose without a second thought; below, the user decides.
DEFAULT_THRESHOLD = 0.85
# Candidates below this are not worth naming as "closest" in a comment.
CLOSEST_FLOOR = 0.5

# Legal-form words dropped from the end of a name (after punctuation is gone:
# "L.L.C." is "llc", "S.A.R.L." is "sarl").
LEGAL_SUFFIXES = frozenset(
    {
        "inc", "incorporated", "corp", "corporation", "co", "company", "llc", "lc",
        "llp", "lp", "pllc", "pc", "ltd", "limited", "ltee", "plc", "ulc", "gmbh",
        "ag", "kg", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "pty", "pte",
        "oy", "ab", "enr",
    }
)  # fmt: skip
_JOINERS = frozenset({"and", "the", "of"})
_DOTS = re.compile(r"[.'’`]")
# Anything but letters and digits (of any script) separates words.
_NON_WORD = re.compile(r"[\W_]+")
# The plain ratio, and the ratio with words sorted ("Dental Group, Contoso").
_SCORERS = (fuzz.ratio, fuzz.token_sort_ratio)


def normalize_name(name: str) -> str:
    """``"Fabrikam, Inc.:Head Office"`` -> ``"fabrikam head office"``.

    QuickBooks levels (``:``) are normalised one by one, so a legal suffix is
    dropped from the end of each level.
    """
    levels = [_normalize_level(level) for level in name.split(":")]
    return " ".join(level for level in levels if level)


def _normalize_level(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = text.replace("&", " and ").replace("+", " and ")
    text = _NON_WORD.sub(" ", _DOTS.sub("", text))
    words = text.split()
    if words and words[0] == "the":
        words = words[1:]
    # "Smith & Co. Ltd" -> "smith": drop legal forms, then a dangling "and".
    while len(words) > 1 and (words[-1] in LEGAL_SUFFIXES or words[-1] in _JOINERS):
        words.pop()
    return " ".join(words)


def similarity(a: str, b: str) -> float:
    """How alike two names are, from 0 to 1 (1: the same once normalised)."""
    first, second = normalize_name(a), normalize_name(b)
    return max(scorer(first, second) for scorer in _SCORERS) / 100


@dataclass(frozen=True)
class Candidate:
    """One name of the other side and how well it matches."""

    index: int
    score: float
    # Which of the left entry's names scored it (0: the first, preferred on a tie).
    variant: int = 0


@dataclass(frozen=True)
class Match:
    """The outcome for one name: the assigned counterpart, if any, and the
    closest counterparts (best first, the assigned one included) for review."""

    chosen: Candidate | None
    closest: tuple[Candidate, ...]

    @property
    def exact(self) -> bool:
        """Whether the names are the same once normalised."""
        return self.chosen is not None and self.chosen.score >= 1.0


def match_names(
    left: Sequence[Sequence[str]],
    right: Sequence[Sequence[str]],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    keep: int = 2,
) -> list[Match]:
    """Assign each left entry at most one right entry, one to one, best first.

    Each entry is given as one or more names (variants, e.g. a QuickBooks
    customer's full name and its own name); a pair scores the best of its
    variants. On equal scores a pair found through an earlier left variant
    wins ("Microsoft 365 E3 Annual" before plain "Microsoft 365 E3"), then the
    earlier entries. Pairs below ``threshold`` are never assigned. Returns one
    :class:`Match` per left entry, in order.
    """
    choices: list[str] = []
    owners: list[int] = []
    for j, names in enumerate(right):
        for text in _variants(names):
            choices.append(text)
            owners.append(j)
    cutoff = 100 * min(threshold, CLOSEST_FLOOR)
    scored: list[list[Candidate]] = []
    for names in left:
        best: dict[int, Candidate] = {}
        for variant, text in enumerate(_variants(names)):
            for scorer in _SCORERS:
                found = process.extract(
                    text, choices, scorer=scorer, processor=None, limit=None, score_cutoff=cutoff
                )
                for _, score, k in found:
                    candidate = Candidate(owners[k], score / 100, variant)
                    known = best.get(candidate.index)
                    if known is None or _rank(candidate) < _rank(known):
                        best[candidate.index] = candidate
        scored.append(sorted(best.values(), key=_rank))

    pairs = sorted(
        ((i, c) for i, candidates in enumerate(scored) for c in candidates if c.score >= threshold),
        key=lambda pair: (-pair[1].score, pair[1].variant, pair[0], pair[1].index),
    )
    chosen: dict[int, Candidate] = {}
    taken: set[int] = set()
    for i, candidate in pairs:
        if i in chosen or candidate.index in taken:
            continue
        chosen[i] = candidate
        taken.add(candidate.index)
    return [
        Match(chosen=chosen.get(i), closest=tuple(candidates[:keep]))
        for i, candidates in enumerate(scored)
    ]


def nearest(name: str, candidates: Sequence[Sequence[str]], *, keep: int = 3) -> list[int]:
    """The indexes of the ``keep`` candidates most like ``name``, best first.

    Each candidate is one or more names, as in :func:`match_names` (a
    QuickBooks full name and its last level); none scoring below
    :data:`CLOSEST_FLOOR` is named.
    """
    (match,) = match_names([[name]], candidates, threshold=1.0, keep=keep)
    return [candidate.index for candidate in match.closest]


def _variants(names: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(text for text in map(normalize_name, names) if text))


def _rank(candidate: Candidate) -> tuple[float, int, int]:
    return (-candidate.score, candidate.variant, candidate.index)
