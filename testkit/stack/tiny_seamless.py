"""A tiny, randomly initialised SeamlessM4T v2 with its processor, written as a model directory
(what ``facebook/seamless-m4t-v2-large`` holds, a few hundred kB): the Seamless backend's
real loading, chunking and streaming code runs on it without the 9 GB of real weights (which
cannot be downloaded here). Its words are random; its output has the real shapes and rates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import (
    GenerationConfig,
    SeamlessM4TFeatureExtractor,
    SeamlessM4TProcessor,
    SeamlessM4TTokenizer,
    SeamlessM4Tv2Config,
    SeamlessM4Tv2Model,
)

LANGUAGES = ("eng", "spa")
"""It writes and speaks these (the real model: about 100 and 36)."""
SPECIAL = ["<pad>", "<unk>", "<s>", "</s>"]
"""Ids 0–3, as the real vocabulary has them (pad 0, bos 2, eos 3)."""
WORDS = ["▁hola", "▁gracias", "▁por", "▁favor", "▁hello", "▁the", "▁a", "s", "o", "▁sí"]
WIDTH = 16


def _tokenizer() -> tuple[SeamlessM4TTokenizer, dict[str, int]]:
    tags = [f"__{code}__" for code in LANGUAGES]
    vocab = {token: i for i, token in enumerate(SPECIAL + tags + WORDS)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.decoder = decoders.Metaspace()
    tokenizer = SeamlessM4TTokenizer(
        tokenizer_object=backend,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        src_lang="__eng__",
        tgt_lang="__spa__",
        additional_special_tokens=tags,
    )
    return tokenizer, vocab


def build(directory: Path, seed: int = 0) -> Path:
    tokenizer, vocab = _tokenizer()
    small = {"layers": 1, "ffn_dim": 32, "attention_heads": 2}
    sizes: dict[str, Any] = {
        f"{prefix}{part}_{key}": value
        for prefix in ("", "t2u_")
        for part in ("encoder", "decoder")
        for key, value in small.items()
    }
    config = SeamlessM4Tv2Config(
        vocab_size=len(vocab),
        hidden_size=WIDTH,
        max_position_embeddings=128,
        speech_encoder_layers=1,
        speech_encoder_attention_heads=2,
        speech_encoder_intermediate_size=32,
        t2u_vocab_size=24,
        char_vocab_size=32,
        t2u_max_position_embeddings=256,
        t2u_variance_predictor_embed_dim=WIDTH,
        t2u_variance_predictor_hidden_dim=16,
        # The vocoder keeps the real upsampling (320 samples per unit, 16 kHz), thinner.
        upsample_initial_channel=64,
        resblock_kernel_sizes=[3],
        resblock_dilation_sizes=[[1]],
        unit_hifi_gan_vocab_size=20,
        unit_embed_dim=8,
        lang_embed_dim=4,
        spkr_embed_dim=4,
        vocoder_num_langs=len(LANGUAGES),
        vocoder_num_spkrs=1,
        **sizes,
    )
    torch.manual_seed(seed)
    model = SeamlessM4Tv2Model(config)
    chars = sorted({ch for token in vocab for ch in token})
    # The language maps and the subword tables are what the real generation config holds.
    maps: dict[str, Any] = {
        "text_decoder_lang_to_code_id": {c: vocab[f"__{c}__"] for c in LANGUAGES},
        "t2u_lang_code_to_id": {c: i for i, c in enumerate(LANGUAGES)},
        "vocoder_lang_code_to_id": {c: i for i, c in enumerate(LANGUAGES)},
        "id_to_text": {str(i): token for token, i in vocab.items()},
        "char_to_id": {ch: i % config.char_vocab_size for i, ch in enumerate(chars)},
    }
    generation = GenerationConfig.from_model_config(config)
    for key, value in maps.items():
        setattr(generation, key, value)
    generation._from_model_config = False  # else loading rebuilds it without the maps
    model.generation_config = generation
    model.save_pretrained(directory)
    features = SeamlessM4TFeatureExtractor()  # type: ignore[no-untyped-call]
    processor = SeamlessM4TProcessor(features, tokenizer)  # type: ignore[no-untyped-call]
    processor.save_pretrained(directory)
    return directory
