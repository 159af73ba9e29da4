"""core/answer_quality.py on its own: reasons, and what counts as the same question again."""

from __future__ import annotations

import pytest

from modelpilot.core import answer_quality as quality


@pytest.mark.parametrize("question, earlier, repeat", [
    ("How can I reset the password?", ["How do I reset my password?"], True),   # only stop words differ
    ("when are the opening hours, please?", ["When are your opening hours?"], True),
    ("PASSWORD reset!", ["password reset"], True),                              # case and punctuation
    ("And on Sundays, same hours?", ["What are your opening hours?"], False),   # a follow-up, not a repeat
    ("Do you ship to Canada?", ["How do I reset my password?"], False),
    ("How do I reset my password?", [], False),
    ("hi", ["hello"], False),                                                   # nothing but stop words
    ("reset password", ["Where is the office?", "reset the password please"], True),  # any earlier one
])
def test_a_repeat_is_nearly_the_same_content_words(question, earlier, repeat):
    assert quality.is_repeat(question, earlier) is repeat


def test_reasons_are_the_stored_ones_plus_a_thumbs_down_in_one_order():
    assert quality.reasons_of('["repeat", "no_source"]', None) == ["no_source", "repeat"]
    assert quality.reasons_of("[]", -1) == ["thumbs_down"]
    assert quality.reasons_of(["handoff"], 1) == ["handoff"]
    assert quality.with_reason('["no_source"]', "handoff") == '["no_source", "handoff"]'
    assert quality.with_reason('["handoff"]', "handoff") == '["handoff"]'
    with pytest.raises(AssertionError):
        quality.with_reason("[]", "thumbs_down")  # a rating is the feedback column, never stored twice


def test_the_sql_predicates_name_their_aliases():
    assert "x.weak_reasons" in quality.weak_answer("x") and "x.feedback = -1" in quality.weak_answer("x")
    resolved = quality.resolved("conv", "mm")
    assert "conv.handoff_at IS NULL" in resolved and "mm.conversation_id = conv.id" in resolved
    assert quality.resolved("c") in quality.unresolved("c")
