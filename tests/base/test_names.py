"""Fuzzy name matching."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.base.names import match_names, nearest, normalize_name, similarity


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("Contoso Dental Group", "contoso dental group"),
        ("Fabrikam, Inc.", "fabrikam"),
        ("Fabrikam Inc.:Head Office", "fabrikam head office"),
        ("The Smith & Co. Ltd", "smith"),
        ("Smith and Sons LLC", "smith and sons"),
        ("O'Brien Plumbing, L.L.C.", "obrien plumbing"),
        ("Société Générale S.A.", "societe generale"),
        ("Ærø Øresund GmbH", "ærø øresund"),  # letters without a decomposition stay
        ("ООО Ромашка", "ооо ромашка"),  # any script
        ("  ACME   widgets  ", "acme widgets"),
        ("Northwind Traders Legal LLP", "northwind traders legal"),
        ("Inc", "inc"),  # a name that is only a suffix keeps it
        ("Co-op Grocers", "co op grocers"),  # "co" only goes at the end
    ],
)
def test_normalize_name(raw, normal):
    assert normalize_name(raw) == normal


def test_similarity_ignores_case_accents_punctuation_and_legal_forms():
    assert similarity("CONTOSO DENTAL GROUP, INC.", "Contoso Dental Group") == 1.0
    assert similarity("Café Olé Ltd", "Cafe Ole") == 1.0
    assert similarity("Dental Group, Contoso", "Contoso Dental Group") == 1.0  # word order
    assert 0.9 < similarity("Contoso", "Contosso") < 1.0  # a typo
    assert similarity("Contoso", "Fabrikam") < 0.5


def test_one_to_one_best_first():
    left = [["Contoso Dental"], ["Contoso Dental Group"]]
    right = [["Contoso Dental Group Inc."], ["Fabrikam"]]
    first, second = match_names(left, right)
    # Both are close to the same customer; the exact one wins it.
    assert second.chosen is not None and second.chosen.index == 0 and second.exact
    assert first.chosen is None
    assert first.closest[0].index == 0 and first.closest[0].score > 0.8


def test_below_the_threshold_nothing_is_chosen_but_the_closest_are_kept():
    [match] = match_names([["Adventure Works"]], [["Adventure Works Cycles"], ["Tailspin"]])
    assert match.chosen is None
    assert [c.index for c in match.closest] == [0]
    [match] = match_names(
        [["Adventure Works"]], [["Adventure Works Cycles"], ["Tailspin"]], threshold=0.8
    )
    assert match.chosen is not None and match.chosen.index == 0


def test_variants_score_their_best_pair():
    right = [["Cloud:Microsoft 365 E3 (annual)", "Microsoft 365 E3 (annual)"], ["Cloud:Microsoft 365 E3", "Microsoft 365 E3"]]  # fmt: skip
    monthly, annual = match_names(
        [["Microsoft 365 E3", "Microsoft 365 E3 Monthly"], ["Microsoft 365 E3", "Microsoft 365 E3 Annual"]],
        right,
    )  # fmt: skip
    assert monthly.chosen is not None and monthly.chosen.index == 1
    assert annual.chosen is not None and annual.chosen.index == 0


def test_ties_go_to_the_earlier_entries():
    matches = match_names(
        [["Tailspin"], ["Tailspin"]], [["Tailspin A"], ["Tailspin B"]], threshold=0.5
    )
    assert [m.chosen.index for m in matches if m.chosen] == [0, 1]


names = st.text(
    alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "Zs"]), min_size=1, max_size=30
)


@given(st.lists(names, max_size=8), st.lists(names, max_size=8), st.floats(0.5, 1.0))
def test_no_counterpart_is_ever_given_twice_nor_below_the_threshold(left, right, threshold):
    matches = match_names([[n] for n in left], [[n] for n in right], threshold=threshold)
    assert len(matches) == len(left)
    chosen = [m.chosen.index for m in matches if m.chosen is not None]
    assert len(chosen) == len(set(chosen))
    assert all(m.chosen.score >= threshold for m in matches if m.chosen is not None)


@given(names)
def test_a_name_matches_itself(name):
    if normalize_name(name):
        assert similarity(name, name) == 1.0
        assert similarity(name.upper(), name) == 1.0 or normalize_name(
            name.upper()
        ) != normalize_name(name)


def test_nearest_names_best_first_and_none_that_are_not_alike():
    candidates = [("Fabrikam Inc.:Head Office", "Head Office"), ("Tailspin Toys",), ("Contoso",)]
    assert nearest("Tailspin Toyz", candidates) == [1]
    assert nearest("Head Ofice", candidates)[0] == 0  # found by its last level
    assert nearest("Zzyzx Qwerty", candidates) == []
