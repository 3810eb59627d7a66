"""The small local language model (a causal LM through transformers): the one module that talks to it.

Three uses, each switchable in settings: query translation (LLM_QUERY_TRANSLATION), feedback merging
(LLM_FEEDBACK_MERGING) and rerank + explain (LLM_RERANK, off by default). Every output is validated: one short
line, no echo of the prompt, within LLM_MAX_REWRITE_CHARS. Anything else falls back to the user's own words and the
fallback is logged. It runs only in the `llm` Celery worker (search/tasks/language.py), never in a request.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings

from imagesearch.optional import require
from search.model_loader import ProcessModel

logger = logging.getLogger(__name__)

TRANSLATE_INSTRUCTION = (
    "Rewrite the user's image search request as a short, literal description of the picture they want, "
    "like a photo caption. Answer with the caption only, on one line."
)
TRANSLATE_EXAMPLES = (
    ("show me cats", "a domestic cat"),
    ("can you find some pictures of dogs in snow?", "a dog in snow"),
)
FEEDBACK_INSTRUCTION = (
    "Combine an image search query with the user's feedback into one new short query that describes the "
    "picture they want now. Answer with the new query only, on one line."
)
FEEDBACK_EXAMPLES = (
    ("a forest with a lake | remove the trees", "a lake"),
    ("a beach | focus on the sky", "the sky over a beach"),
)
RERANK_INSTRUCTION = (
    "Order the numbered image captions by how well they match the query, best first. Answer on one line: the "
    "numbers separated by commas, then ' - ' and one short sentence on why the first ones match."
)
ROLE_MARKERS = re.compile(r"^(system|user|assistant|query|caption|answer|new query|feedback)\s*:\s*", re.IGNORECASE)
QUOTES = "\"'`“”‘’"  # noqa: RUF001 - typographic quotes a model may wrap its answer in


class RefusedOutput(ValueError):
    """A model output that failed validation; the message says why (logged with the fallback)."""


@dataclass(frozen=True)
class Rewrite:
    kind: str  # "translation" | "feedback"
    original: str  # what is searched without the model
    text: str  # the rewritten query, or `original` after a fallback
    rewritten: bool
    reason: str = ""  # why the model's output was not used
    model: str = ""

    def as_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Rerank:
    order: list[int]  # candidate ids, best first
    explanation: str = ""
    reranked: bool = False
    reason: str = ""
    model: str = ""


@dataclass
class Completion:
    text: str
    prompt: str
    seconds: float
    timed_out: bool = False


class LanguageModel:
    """A causal LM with its tokenizer: chat template when the tokenizer has one, a plain prompt otherwise."""

    def __init__(
        self, name_or_path: str, *, device: str = "cpu", max_new_tokens: int = 32, max_seconds: float = 8.0
    ) -> None:
        require("transformers", "captions")
        import torch  # imported with the model, like transformers: most processes never rewrite a query
        from transformers import AutoModelForCausalLM, AutoTokenizer

        local = Path(name_or_path).is_dir()
        self.model_key = name_or_path if not local else Path(name_or_path).name
        self.device = torch.device(device)
        self.max_new_tokens = max_new_tokens
        self.max_seconds = max_seconds
        self.tokenizer = AutoTokenizer.from_pretrained(name_or_path, local_files_only=local)
        model = AutoModelForCausalLM.from_pretrained(name_or_path, local_files_only=local)
        self.model = model.to(self.device).eval()
        self._lock = threading.Lock()

    def prompt(self, instruction: str, examples: Sequence[tuple[str, str]], request: str) -> str:
        if getattr(self.tokenizer, "chat_template", None):
            messages = [{"role": "system", "content": instruction}]
            for asked, answered in examples:
                messages += [{"role": "user", "content": asked}, {"role": "assistant", "content": answered}]
            messages.append({"role": "user", "content": request})
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        shots = "".join(f"Request: {asked}\nAnswer: {answered}\n\n" for asked, answered in examples)
        return f"{instruction}\n\n{shots}Request: {request}\nAnswer:"

    def complete(self, prompt: str) -> Completion:
        """Greedy continuation of `prompt`, stopped after max_new_tokens or max_seconds."""
        import torch

        inputs = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(self.device)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        started = time.perf_counter()
        with self._lock, torch.inference_mode():
            output = self.model.generate(
                **inputs,
                max_new_tokens=self.max_new_tokens,
                max_time=self.max_seconds,
                do_sample=False,
                pad_token_id=pad,
            )
        seconds = time.perf_counter() - started
        new_tokens = output[0, inputs["input_ids"].shape[1] :]
        text = self.tokenizer.decode(new_tokens, skip_special_tokens=True)
        # generate() stops quietly at max_time; a cut-off answer is not an answer.
        return Completion(text=text, prompt=prompt, seconds=seconds, timed_out=seconds >= self.max_seconds)


def translate_query(text: str, *, model: LanguageModel | None = None) -> Rewrite:
    """A conversational query → a short caption-like query ("show me cats" → "a domestic cat")."""
    original = text.strip()
    if not settings.LLM_QUERY_TRANSLATION:
        return Rewrite("translation", original, original, False, reason="query translation is off")
    return _rewrite("translation", original, TRANSLATE_INSTRUCTION, TRANSLATE_EXAMPLES, original, model)


def merge_feedback(query: str, feedback: str, *, fallback: str, model: LanguageModel | None = None) -> Rewrite:
    """Current query + feedback ("remove the trees") → one rewritten query; `fallback` is what runs without it."""
    if not settings.LLM_FEEDBACK_MERGING:
        return Rewrite("feedback", fallback, fallback, False, reason="feedback merging is off")
    request = f"{query.strip()} | {feedback.strip()}"
    return _rewrite("feedback", fallback, FEEDBACK_INSTRUCTION, FEEDBACK_EXAMPLES, request, model)


def rerank_and_explain(
    query: str, candidates: Sequence[tuple[int, str]], *, model: LanguageModel | None = None
) -> Rerank:
    """The candidates (id, caption), reordered by the model, with one sentence on why; else their order."""
    ids = [image_id for image_id, _ in candidates]
    if not settings.LLM_RERANK or not candidates:
        return Rerank(ids, reason="rerank is off" if not settings.LLM_RERANK else "no candidates")
    model = model or get_language_model()
    numbered = "\n".join(f"{n}. {caption or '(no caption)'}" for n, (_, caption) in enumerate(candidates, 1))
    prompt = model.prompt(RERANK_INSTRUCTION, (), f"Query: {query}\nCaptions:\n{numbered}")
    try:
        completion = _complete(model, prompt)
        line = validate_line(completion.text, prompt=prompt, limit=max(settings.LLM_MAX_REWRITE_CHARS, 300))
        order, explanation = parse_ranking(line, len(candidates))
    except RefusedOutput as refused:
        logger.warning("LLM rerank fell back to the vector order for %r: %s", query, refused)
        return Rerank(ids, reason=str(refused), model=model.model_key)
    return Rerank([ids[n - 1] for n in order], explanation, True, model=model.model_key)


def _rewrite(
    kind: str,
    original: str,
    instruction: str,
    examples: Sequence[tuple[str, str]],
    request: str,
    model: LanguageModel | None,
) -> Rewrite:
    model = model or get_language_model()
    prompt = model.prompt(instruction, examples, request)
    try:
        line = validate_line(_complete(model, prompt).text, prompt=prompt, limit=settings.LLM_MAX_REWRITE_CHARS)
    except RefusedOutput as refused:
        logger.warning("LLM %s fell back to the user's query %r: %s", kind, original, refused)
        return Rewrite(kind, original, original, False, reason=str(refused), model=model.model_key)
    return Rewrite(kind, original, line, line.lower() != original.lower(), model=model.model_key)


def _complete(model: LanguageModel, prompt: str) -> Completion:
    completion = model.complete(prompt)
    if completion.timed_out:
        raise RefusedOutput(f"generation hit the {model.max_seconds:g} s limit")
    return completion


def validate_line(output: str, *, prompt: str, limit: int) -> str:
    """The model's answer as one clean line, or RefusedOutput saying what is wrong with it."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    if not lines:
        raise RefusedOutput("empty output")
    if len(lines) > 1:
        raise RefusedOutput(f"{len(lines)} lines instead of one")
    line = ROLE_MARKERS.sub("", lines[0]).strip().strip(QUOTES).strip()
    if not line or not any(character.isalpha() for character in line):
        raise RefusedOutput("no words in the output")
    if len(line) > limit:
        raise RefusedOutput(f"{len(line)} characters; the limit is {limit}")
    if any(not character.isprintable() for character in line):
        raise RefusedOutput("control characters in the output")
    if _echoes(line, prompt):
        raise RefusedOutput("the output repeats the prompt")
    return line


def _echoes(line: str, prompt: str) -> bool:
    """True when the line repeats the instructions: a stretch of 6+ words or 40+ characters of the prompt."""
    words = _words(line)
    prompt_text = " ".join(_words(prompt))
    if len(words) >= 6 and any(" ".join(words[i : i + 6]) in prompt_text for i in range(len(words) - 5)):
        return True
    normalised = " ".join(words)
    return len(normalised) >= 40 and normalised in prompt_text


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def parse_ranking(line: str, count: int) -> tuple[list[int], str]:
    """'3, 1, 2 - because ...' → ([3, 1, 2, ...rest], 'because ...'); numbers must be 1..count, no repeats."""
    head, _, explanation = line.partition(" - ")
    numbers = [int(n) for n in re.findall(r"\d+", head)]
    if not numbers:
        raise RefusedOutput("no ranking in the output")
    if any(not 1 <= n <= count for n in numbers) or len(set(numbers)) != len(numbers):
        raise RefusedOutput("the ranking names unknown or repeated candidates")
    rest = [n for n in range(1, count + 1) if n not in numbers]
    return numbers + rest, explanation.strip()


def _build_from_settings() -> LanguageModel:
    return LanguageModel(
        settings.LLM_MODEL,
        device=settings.LLM_DEVICE,
        max_new_tokens=settings.LLM_MAX_NEW_TOKENS,
        max_seconds=settings.LLM_MAX_SECONDS,
    )


# Only the `llm` Celery worker loads it, on its first rewrite.
process_language_model: ProcessModel[LanguageModel] = ProcessModel(
    _build_from_settings, describe=lambda model: f"Language model {model.model_key} on {model.device}"
)


def get_language_model() -> LanguageModel:
    """The process's language model, built from settings on first use and kept for the life of the process."""
    return process_language_model.get()


def reset_language_model() -> None:
    """Forget the loaded model (after LLM_MODEL changes, e.g. in tests)."""
    process_language_model.reset()
