"""Per-segment QA checks: each fault is caught, a faithful translation is not flagged."""

from __future__ import annotations

import pytest

from samachar.translate.qa import check_segment, numbers

SOURCE = "The project, estimated at ₹5,801 crore, will carry 1.2 lakh riders, “a turning point,” he said."
GOOD = "El proyecto, estimado en ₹5.801 crore, llevará 1,2 lakh pasajeros, “un punto de inflexión,” dijo."


def checks(source: str, target: str, src: str = "en", tgt: str = "es") -> set[str]:
    return {f.check for f in check_segment(source, target, src, tgt)}


def test_faithful_translation_passes():
    assert checks(SOURCE, GOOD) == set()


def test_numbers_normalise_separators_digits_and_lakh_grouping():
    assert numbers("₹1,20,000 and 120,000 and १,२०,००० and 4.600") == ["120000", "120000", "120000", "4600"]
    assert checks("Attendance: 66,000.", "उपस्थिति: ६६,०००।", "en", "hi") == set()


@pytest.mark.parametrize(
    ("target", "check"),
    [
        (GOOD.replace("₹5.801 ", ""), "numbers"),
        (GOOD.replace("“", ""), "quotes"),
        (SOURCE, "untranslated"),
        ("El proyecto, estimado en ₹5.801 crore, llevará 1,2 lakh", "truncated"),
        (GOOD.replace("dijo.", "dijo dijo dijo dijo."), "repetition"),
        (GOOD.replace("dijo.", "dijo. Y se fue."), "sentences"),
        (GOOD + " " + GOOD + " " + GOOD, "length"),
        (GOOD.replace("(", "").replace("dijo.", "dijo (sí."), "brackets"),
        ("", "empty"),
    ],
)
def test_each_fault_is_flagged(target, check):
    assert check in checks(SOURCE, target)


def test_source_script_left_in_target_is_untranslated():
    flags = check_segment("Kim met the minister on Friday.", "Kim met the minister on Friday, शुक्रवार.", "en", "hi")
    assert any(f.check == "untranslated" and f.severity == "error" for f in flags)
    assert not any(f.check == "untranslated" for f in check_segment(
        "Kim met the minister on Friday.", "किम ने शुक्रवार को मंत्री से मुलाकात की।", "en", "hi"))


def test_flag_fields():
    (flag,) = [f for f in check_segment(SOURCE, GOOD.replace("“", ""), "en", "es") if f.check == "quotes"]
    assert flag.severity == "error" and flag.source == SOURCE and "quotation" in flag.message
