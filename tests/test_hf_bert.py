"""Our BERT encoder against HF transformers' `BertModel`: weights both ways, same hidden states (fp32, 1e-5)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

transformers = pytest.importorskip("transformers")

from encoderlab.errors import ConfigError  # noqa: E402
from encoderlab.interop.hf_bert import export_hf, import_hf  # noqa: E402
from encoderlab.interop.pretrained import load_encoder_weights, read_config, save_encoder  # noqa: E402
from encoderlab.models.transformer import TransformerEncoder  # noqa: E402

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = [f"w{i}" for i in range(59)] + ["##s"]


def padded_batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Three sequences of lengths 12, 7 and 3, right-padded with 0; a text pair in the first (segment ids 1)."""
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 64, (3, 12), generator=generator)
    mask = torch.zeros(3, 12, dtype=torch.long)
    for row, length in enumerate((12, 7, 3)):
        mask[row, :length] = 1
    ids = ids * mask
    types = torch.zeros_like(ids)
    types[0, 6:] = 1
    return ids, mask, types


def tiny_hf_bert() -> transformers.BertModel:
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
        max_position_embeddings=40, hidden_act="gelu",
    )  # fmt: skip
    model = transformers.BertModel(config).eval()
    with torch.no_grad():  # make the LayerNorms and biases non-trivial, so a mix-up in mapping shows
        for name, parameter in model.named_parameters():
            if "LayerNorm" in name or name.endswith("bias"):
                parameter.add_(0.1 * torch.randn_like(parameter))
    return model


def assert_same_hidden(ours: torch.nn.Module, hf: transformers.BertModel) -> None:
    ids, mask, types = padded_batch()
    with torch.no_grad():
        expected = hf(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
        got = ours.eval()(ids, mask, types)
    real = mask.bool()
    torch.testing.assert_close(got[real], expected[real], atol=1e-5, rtol=1e-5)


def test_hf_weights_loaded_into_ours_give_hf_hidden_states(tmp_path: Path) -> None:
    hf = tiny_hf_bert()
    hf.save_pretrained(tmp_path / "hf")
    (tmp_path / "hf" / "vocab.txt").write_text("\n".join(SPECIALS + WORDS[:59]) + "\n")
    import_hf(tmp_path / "hf", tmp_path / "ours")
    encoder_cfg = read_config(tmp_path / "ours")["encoder"]
    ours = TransformerEncoder(**encoder_cfg)
    loaded, adapters = load_encoder_weights(ours, tmp_path / "ours")
    assert loaded == len(ours.state_dict()) and adapters == []
    assert_same_hidden(ours, hf)


def test_ours_exported_load_into_bert_model_with_the_same_outputs_and_tokens(tmp_path: Path) -> None:
    from tokenizers import Tokenizer

    from encoderlab.data.tokenizer import TokenizerSettings, train_wordpiece

    tokenizer = train_wordpiece(["the cat sat on the mat", "a dog ran"] * 5, TokenizerSettings(vocab_size=64))
    torch.manual_seed(1)
    ours = TransformerEncoder(
        tokenizer.get_vocab_size(), hidden_size=32, num_layers=2, num_heads=4, intermediate_size=48, max_position=40
    )
    save_encoder(tmp_path / "ours", ours, tokenizer.to_str(), "test")
    export_hf(tmp_path / "ours", tmp_path / "hf")
    hf = transformers.BertModel.from_pretrained(tmp_path / "hf").eval()
    ids, mask, types = padded_batch()
    ids = ids % tokenizer.get_vocab_size()
    with torch.no_grad():
        expected = ours.eval()(ids, mask, types)
        got = hf(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
    torch.testing.assert_close(got[mask.bool()], expected[mask.bool()], atol=1e-5, rtol=1e-5)
    hf_tokenizer = transformers.AutoTokenizer.from_pretrained(tmp_path / "hf")
    text = "The cat ran on the mat"
    assert (
        hf_tokenizer(text)["input_ids"]
        == Tokenizer.from_file(str(tmp_path / "ours" / "tokenizer.json")).encode(text).ids
    )


def test_a_folder_that_is_not_bert_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"model_type": "gpt2"}')
    with pytest.raises(ConfigError, match="only HF BERT"):
        import_hf(tmp_path, tmp_path / "out")
