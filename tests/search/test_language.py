import logging

import pytest

from search import language
from search.language import (
    LanguageModel,
    RefusedOutput,
    merge_feedback,
    parse_ranking,
    rerank_and_explain,
    translate_query,
    validate_line,
)

PROMPT = "Rewrite the user's image search request as a short, literal description of the picture they want."


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("a domestic cat", "a domestic cat"),
        ('  "a domestic cat"  \n', "a domestic cat"),
        ("Answer: a dog in snow", "a dog in snow"),
    ],
)
def test_a_clean_line_is_accepted(output, expected):
    assert validate_line(output, prompt=PROMPT, limit=120) == expected


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        ("", "empty"),
        ("   \n  ", "empty"),
        ("a cat\nand then some more lines", "lines"),
        ("a " + "very " * 40 + "long caption", "limit"),
        ("!!! ???", "no words"),
        ("rewrite the user's image search request as a short", "repeats the prompt"),
        ("a cat\x07", "control"),
    ],
)
def test_anything_else_is_refused_with_its_reason(output, reason):
    with pytest.raises(RefusedOutput, match=reason):
        validate_line(output, prompt=PROMPT, limit=120)


def test_a_good_answer_becomes_the_rewrite(scripted, settings):
    rewrite = translate_query("can you show me some cats?", model=scripted("a domestic cat"))

    assert (rewrite.text, rewrite.rewritten, rewrite.kind) == ("a domestic cat", True, "translation")
    assert rewrite.original == "can you show me some cats?"


def test_a_bad_answer_falls_back_to_the_query_and_is_logged(scripted, caplog):
    with caplog.at_level(logging.WARNING, logger="search.language"):
        rewrite = translate_query("show me cats", model=scripted("line one\nline two"))

    assert (rewrite.text, rewrite.rewritten) == ("show me cats", False)
    assert "lines" in rewrite.reason
    assert "fell back" in caplog.text


def test_a_timed_out_answer_falls_back(scripted):
    rewrite = translate_query("show me cats", model=scripted("a cat", timed_out=True))

    assert not rewrite.rewritten
    assert "limit" in rewrite.reason


def test_feedback_merging_sees_query_and_feedback(scripted):
    model = scripted("a lake")

    rewrite = merge_feedback(
        "a forest with a lake", "remove the trees", fallback="a forest with a lake; remove the trees", model=model
    )

    assert rewrite.text == "a lake"
    assert "a forest with a lake | remove the trees" in model.prompts[0]


def test_switched_off_uses_no_model(settings, scripted):
    settings.LLM_QUERY_TRANSLATION = False
    settings.LLM_FEEDBACK_MERGING = False
    model = scripted()

    translated = translate_query("show me cats", model=model)
    merged = merge_feedback("a beach", "more sky", fallback="a beach; more sky", model=model)

    assert not translated.rewritten and translated.text == "show me cats"
    assert not merged.rewritten and merged.text == "a beach; more sky"
    assert model.prompts == []


def test_rerank_is_off_by_default(settings, scripted):
    assert settings.LLM_RERANK is False
    model = scripted()

    result = rerank_and_explain("cats", [(1, "a dog"), (2, "a cat")], model=model)

    assert result.order == [1, 2] and not result.reranked and model.prompts == []


def test_rerank_orders_and_explains_when_on(settings, scripted):
    settings.LLM_RERANK = True

    result = rerank_and_explain(
        "cats", [(10, "a dog"), (20, "a cat"), (30, "a car")], model=scripted("2, 1 - the second shows a cat")
    )

    assert result.order == [20, 10, 30]
    assert result.explanation == "the second shows a cat"


def test_rerank_falls_back_on_an_impossible_ranking(settings, scripted):
    settings.LLM_RERANK = True

    result = rerank_and_explain("cats", [(10, "a dog"), (20, "a cat")], model=scripted("7, 7 - nonsense"))

    assert result.order == [10, 20] and not result.reranked


def test_parse_ranking_appends_the_unranked():
    assert parse_ranking("3 - why", 4) == ([3, 1, 2, 4], "why")


def test_a_causal_lm_loads_from_a_local_folder_through_the_setting(language_model, tiny_lm_dir):
    assert language_model.model_key == "tiny-gpt2"
    assert language.get_language_model() is language_model

    rewrite = translate_query("show me cats")

    # Random weights say nothing useful: the answer is either a valid one-line rewrite or the user's own words.
    assert rewrite.model == "tiny-gpt2"
    if rewrite.rewritten:
        assert "\n" not in rewrite.text and 0 < len(rewrite.text) <= 120
    else:
        assert rewrite.text == "show me cats" and rewrite.reason


def test_a_chat_template_is_used_when_the_tokenizer_has_one(tiny_chat_lm_dir):
    model = LanguageModel(str(tiny_chat_lm_dir), max_new_tokens=4)

    prompt = model.prompt("Be brief.", [("show me cats", "a cat")], "show me dogs")

    assert prompt.startswith("<system>Be brief.")
    assert prompt.endswith("<user>show me dogs\n<assistant>")
    assert isinstance(model.complete(prompt).text, str)


def test_plain_models_get_a_few_shot_prompt(tiny_lm_dir):
    model = LanguageModel(str(tiny_lm_dir), max_new_tokens=4)

    prompt = model.prompt("Be brief.", [("show me cats", "a cat")], "show me dogs")

    assert prompt.endswith("Request: show me dogs\nAnswer:")


def test_generation_stops_at_the_time_limit_and_falls_back(tiny_lm_dir):
    model = LanguageModel(str(tiny_lm_dir), max_new_tokens=400, max_seconds=0.02)

    rewrite = translate_query("show me cats", model=model)

    if rewrite.reason == "empty output":
        pytest.skip("the random-weight tiny LM ended its output (end-of-text) before the time limit on this run")
    assert not rewrite.rewritten
    assert "limit" in rewrite.reason
