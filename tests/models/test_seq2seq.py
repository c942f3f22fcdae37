"""The seq2seq contract: causal decoders, incremental decoding equal to full recomputation, batched search."""

from __future__ import annotations

import pytest
import torch

from encoderlab.models.attention import MultiHeadAttention
from encoderlab.models.generation import beam_search, greedy_search
from encoderlab.models.seq2seq import LSTMSeq2Seq, TransformerSeq2Seq
from encoderlab.models.vocabulary import Vocabulary

VOCAB, PAD, BOS, EOS = 40, 0, 1, 2
VOCABULARY = Vocabulary(VOCAB, PAD, BOS, EOS)

MODELS = {
    "transformer_pre_ln": lambda: TransformerSeq2Seq(
        VOCABULARY, hidden_size=32, num_heads=4, encoder_layers=2, decoder_layers=2, norm_first=True
    ),
    "transformer_post_ln": lambda: TransformerSeq2Seq(
        VOCABULARY, hidden_size=32, num_heads=4, encoder_layers=2, decoder_layers=2, norm_first=False
    ),
    "lstm_additive": lambda: LSTMSeq2Seq(VOCABULARY, embedding_size=16, hidden_size=16, decoder_hidden_size=24),
    "lstm_general": lambda: LSTMSeq2Seq(
        VOCABULARY, embedding_size=16, hidden_size=16, decoder_hidden_size=24, attention="general"
    ),
    "lstm_dot_2_layers": lambda: LSTMSeq2Seq(
        VOCABULARY,
        embedding_size=16,
        hidden_size=16,
        decoder_hidden_size=32,
        decoder_layers=2,
        attention="dot",
    ),
}


def make(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return MODELS[name]().eval()


def source_batch() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(3)
    ids = torch.randint(3, VOCAB, (3, 7), generator=generator)
    mask = torch.ones_like(ids)
    ids[1, 4:], mask[1, 4:] = PAD, 0
    return ids, mask


@pytest.mark.parametrize("name", MODELS)
def test_changing_a_future_target_token_never_changes_earlier_logits(name: str) -> None:
    model = make(name)
    src, mask = source_batch()
    tgt = torch.randint(3, VOCAB, (3, 6), generator=torch.Generator().manual_seed(4))
    changed = tgt.clone()
    changed[:, 4] = (changed[:, 4] + 1 - 3) % (VOCAB - 3) + 3
    before, after = model(src, mask, tgt), model(src, mask, changed)
    # the logits at position t predict token t + 1 from tokens 0..t: only positions >= 4 may see the change
    torch.testing.assert_close(after[:, :4], before[:, :4], atol=1e-6, rtol=0)
    assert (after[:, 4:] - before[:, 4:]).abs().amax(dim=(0, 2)).min() > 1e-4, "the token must matter from there on"


@pytest.mark.parametrize("name", MODELS)
def test_step_by_step_decoding_equals_full_recomputation(name: str) -> None:
    model = make(name)
    src, mask = source_batch()
    tgt = torch.randint(3, VOCAB, (3, 8), generator=torch.Generator().manual_seed(5))
    full = model(src, mask, tgt)
    memory = model.encode(src, mask)
    state = model.init_state(memory, mask)
    steps = []
    for t in range(tgt.shape[1]):
        logits, state = model.step(tgt[:, t], state, memory, mask)
        steps.append(logits)
    torch.testing.assert_close(torch.stack(steps, dim=1), full, atol=1e-5, rtol=0)


def test_kv_cache_grows_one_step_at_a_time_and_cross_keys_are_computed_once() -> None:
    model = make("transformer_pre_ln")
    src, mask = source_batch()
    memory = model.encode(src, mask)
    cache = model.init_state(memory, mask)
    for t in range(3):
        model.step(torch.full((3,), BOS), cache, memory, mask)
        assert cache[0]["self"]["k"].shape == (3, 4, t + 1, 8)
        if t == 0:
            cross_keys = cache[0]["cross"]["k"]
        assert cache[0]["cross"]["k"] is cross_keys


def test_cross_attention_needs_memory() -> None:
    attention = MultiHeadAttention(16, 2, is_cross=True)
    with pytest.raises(ValueError, match="needs `memory`"):
        attention(torch.zeros(1, 2, 16))


@pytest.mark.parametrize("name", MODELS)
def test_beam_size_one_equals_greedy(name: str) -> None:
    model = make(name)
    src, mask = source_batch()
    greedy = greedy_search(model, src, mask, max_len=12)
    beam = beam_search(model, src, mask, max_len=12, beam_size=1)
    assert torch.equal(beam, greedy)


@pytest.mark.parametrize("name", ["transformer_pre_ln", "lstm_additive"])
@pytest.mark.parametrize("beam_size", [1, 4])
def test_batched_generation_equals_one_sentence_at_a_time(name: str, beam_size: int) -> None:
    model = make(name)
    src, mask = source_batch()
    batched = model.generate(src, mask, max_len=10, beam_size=beam_size)
    for row in range(src.shape[0]):
        length = int(mask[row].sum())
        alone = model.generate(src[row : row + 1, :length], mask[row : row + 1, :length], 10, beam_size)
        ids = batched[row, : alone.shape[1]]
        assert torch.equal(ids, alone[0]), (row, ids, alone)
        assert (batched[row, alone.shape[1] :] == PAD).all()


def test_beam_search_scores_at_least_as_well_as_greedy_without_length_penalty() -> None:
    # With length_penalty=0 a beam keeps the greedy path unless it finds a more probable one.
    model = make("transformer_pre_ln")
    src, mask = source_batch()

    def log_prob(hypotheses: torch.Tensor) -> torch.Tensor:
        tgt_in = torch.cat([torch.full((3, 1), BOS), hypotheses[:, :-1]], dim=1)
        log_probs = model(src, mask, tgt_in).log_softmax(-1).gather(-1, hypotheses.unsqueeze(-1)).squeeze(-1)
        return (log_probs * (hypotheses != PAD)).sum(1)

    greedy = greedy_search(model, src, mask, max_len=6)
    beam = beam_search(model, src, mask, max_len=6, beam_size=8, length_penalty=0.0)
    length = max(greedy.shape[1], beam.shape[1])
    pad = lambda ids: torch.nn.functional.pad(ids, (0, length - ids.shape[1]), value=PAD)  # noqa: E731
    assert (log_prob(pad(beam)) >= log_prob(pad(greedy)) - 1e-5).all()


@pytest.mark.parametrize("name", MODELS)
def test_generation_ends_with_eos_then_padding_and_never_emits_bos_or_pad_early(name: str) -> None:
    model = make(name)
    with torch.no_grad():  # make EOS likely after a few steps so that sequences end
        model.output_bias[EOS] = 4.0
    src, mask = source_batch()
    for beam_size in (1, 3):
        out = model.generate(src, mask, max_len=15, beam_size=beam_size)
        assert out.shape[0] == 3
        for row in out.tolist():
            assert BOS not in row
            end = row.index(EOS)
            assert PAD not in row[:end] and all(t == PAD for t in row[end + 1 :])


def test_generation_respects_the_decoders_position_limit() -> None:
    model = TransformerSeq2Seq(VOCABULARY, hidden_size=16, num_heads=2, max_position=8).eval()
    with torch.no_grad():
        model.output_bias[EOS] = -100.0  # never stop on its own
    src, mask = source_batch()
    assert model.generate(src, mask, max_len=50, beam_size=2).shape[1] == 7  # BOS takes position 0


def test_shared_embeddings_and_tied_output_projection() -> None:
    model = make("transformer_pre_ln")
    assert model.decoder.input_embeddings is model.encoder.get_input_embeddings()
    separate = TransformerSeq2Seq(VOCABULARY, hidden_size=16, num_heads=2, share_embeddings=False)
    assert separate.decoder.input_embeddings is not separate.encoder.get_input_embeddings()
    hidden = torch.randn(2, 3, 16)
    expected = hidden @ separate.decoder.input_embeddings.weight.T + separate.output_bias
    torch.testing.assert_close(separate.output_logits(hidden), expected)


def test_unknown_or_mismatched_lstm_attention_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="additive, dot, general"):
        LSTMSeq2Seq(VOCABULARY, attention="cosine")
    with pytest.raises(ValueError, match="use attention=general"):
        LSTMSeq2Seq(VOCABULARY, hidden_size=16, decoder_hidden_size=24, attention="dot")
