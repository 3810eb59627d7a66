"""Tiny captioning and language models, built from configs with random weights and saved like hub models.

Pretrained BLIP and LLM weights cannot be downloaded here, so the tests save small random models (and tokenizers
built locally) to a folder and load them from that path through the app's normal loading code. Their outputs are
noise: tests check the plumbing, never what a caption or a rewrite says.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from search import captioner as captioner_module
from search import language as language_module

WORDS = "a an the photo picture of dog cat red blue green circle square sign exit on left right white background"
CORPUS = [
    "show me cats",
    "a domestic cat",
    "a photo of a dog on the beach",
    "remove the trees",
    "focus on the sky",
    "Request: Answer: Rewrite the user's image search request as a short caption",
]


def build_tiny_blip(folder: Path) -> Path:
    import torch
    from transformers import (
        BertTokenizerFast,
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessor,
        BlipProcessor,
    )

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[DEC]", *WORDS.split()]
    folder.mkdir(parents=True)
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), bos_token="[DEC]")
    processor = BlipProcessor(image_processor=BlipImageProcessor(size={"height": 32, "width": 32}), tokenizer=tokenizer)
    config = BlipConfig(
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
                       "image_size": 32, "patch_size": 8},
        text_config={"vocab_size": len(vocab), "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
                     "num_attention_heads": 2, "max_position_embeddings": 64, "bos_token_id": 5, "pad_token_id": 0,
                     "sep_token_id": 3, "encoder_hidden_size": 32},
        projection_dim=32,
    )  # fmt: skip
    torch.manual_seed(0)
    BlipForConditionalGeneration(config).save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def build_tiny_lm(folder: Path, *, chat: bool) -> Path:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    tokens = Tokenizer(models.BPE())
    tokens.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokens.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokens.train_from_iterator(CORPUS * 4, trainer)
    end = "<|endoftext|>"
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tokens, eos_token=end, bos_token=end, pad_token=end)
    if chat:
        tokenizer.chat_template = (
            "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\n{% endfor %}"
            "{% if add_generation_prompt %}<assistant>{% endif %}"
        )
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=512, n_embd=32, n_layer=1, n_head=2)
    config.eos_token_id = config.bos_token_id = tokenizer.eos_token_id
    torch.manual_seed(0)
    GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_blip_dir(tmp_path_factory) -> Path:
    return build_tiny_blip(tmp_path_factory.mktemp("models") / "tiny-blip")


@pytest.fixture(scope="session")
def tiny_lm_dir(tmp_path_factory) -> Path:
    return build_tiny_lm(tmp_path_factory.mktemp("models") / "tiny-gpt2", chat=False)


@pytest.fixture(scope="session")
def tiny_chat_lm_dir(tmp_path_factory) -> Path:
    return build_tiny_lm(tmp_path_factory.mktemp("models") / "tiny-chat", chat=True)


@pytest.fixture
def captioner(settings, tiny_blip_dir):
    """The process captioner, loaded from the tiny model's folder through CAPTION_MODEL."""
    settings.CAPTION_MODEL = str(tiny_blip_dir)
    settings.CAPTION_BATCH_SIZE = 4
    settings.CAPTION_MAX_TOKENS = 6
    captioner_module.reset_captioner()
    yield captioner_module.get_captioner()
    captioner_module.reset_captioner()


@pytest.fixture
def language_model(settings, tiny_lm_dir):
    """The process language model, loaded from the tiny GPT-2's folder through LLM_MODEL."""
    settings.LLM_MODEL = str(tiny_lm_dir)
    settings.LLM_MAX_NEW_TOKENS = 8
    language_module.reset_language_model()
    yield language_module.get_language_model()
    language_module.reset_language_model()


class ScriptedModel:
    """A LanguageModel stand-in that answers with given text: for testing what happens to an answer."""

    model_key = "scripted"
    max_seconds = 5.0

    def __init__(self, *answers: str, timed_out: bool = False) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []
        self.timed_out = timed_out

    def prompt(self, instruction, examples, request) -> str:
        return f"{instruction}\n{request}"

    def complete(self, prompt: str):
        self.prompts.append(prompt)
        return language_module.Completion(
            text=self.answers.pop(0), prompt=prompt, seconds=0.01, timed_out=self.timed_out
        )


@pytest.fixture
def scripted(settings):
    settings.LLM_MODEL = "scripted-test-model"  # the language model is on (whatever .env says); tests script it
    return ScriptedModel
