"""qbXML status codes as typed results."""

from __future__ import annotations

import pytest

from reconciler.qbxml.status import EXPLANATIONS, Action, Severity, Status, classify, explain


@pytest.mark.parametrize(
    ("code", "severity", "action"),
    [
        (0, Severity.INFO, Action.NONE),
        (1, Severity.INFO, Action.NONE),
        (499, Severity.INFO, Action.NONE),
        (500, Severity.WARNING, Action.NONE),
        (530, Severity.WARNING, Action.NONE),
        (999, Severity.WARNING, Action.NONE),
        (1000, Severity.ERROR, Action.FIX),
        (3100, Severity.ERROR, Action.FIX),
        (3120, Severity.ERROR, Action.FIX),
        (3140, Severity.ERROR, Action.FIX),
        (3170, Severity.ERROR, Action.RETRY),
        (3171, Severity.ERROR, Action.FIX),
        (3175, Severity.ERROR, Action.RETRY),
        (3176, Severity.ERROR, Action.RETRY),
        (3180, Severity.ERROR, Action.RETRY),
        (3200, Severity.ERROR, Action.REPLAN),
        (3250, Severity.ERROR, Action.FIX),
        (3260, Severity.ERROR, Action.FIX),
        (9999, Severity.ERROR, Action.FIX),
    ],
)
def test_codes_map_to_severity_and_action(code, severity, action):
    status = Status.from_code(code, "message")
    assert (status.severity, status.action, classify(code)) == (severity, action, action)
    assert status.ok is (severity is not Severity.ERROR)


def test_action_is_derived_not_passed():
    status = Status(3200, Severity.ERROR, "The provided edit sequence is out-of-date.")
    assert status.action is Action.REPLAN
    with pytest.raises(TypeError):
        Status(3200, Severity.ERROR, "x", Action.NONE)  # type: ignore[call-arg]


def test_every_known_code_has_a_one_line_explanation():
    for code in (1, 500, 530, 3100, 3120, 3140, 3170, 3171, 3175, 3176, 3180, 3200, 3250, 3260):
        text = explain(code)
        assert text == EXPLANATIONS[code]
        assert text and "\n" not in text


def test_unknown_codes_get_an_explanation_by_range():
    assert "nothing to do" in explain(42)
    assert "carried out" in explain(777)
    assert "refused" in explain(3999)
    assert Status.from_code(3999).explanation == explain(3999)
