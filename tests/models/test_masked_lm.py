import torch

from encoderlab.models.masked_lm import IGNORE_INDEX, MaskedLanguageModel, gather_masked_positions
from encoderlab.models.transformer import TransformerEncoder


def tiny_mlm() -> MaskedLanguageModel:
    encoder = TransformerEncoder(50, hidden_size=16, num_layers=1, num_heads=2, max_position=16, dropout=0.0)
    return MaskedLanguageModel(encoder)


def test_logits_only_at_masked_positions_and_decoder_is_the_embedding_matrix() -> None:
    torch.manual_seed(0)
    model = tiny_mlm().eval()
    ids = torch.randint(5, 50, (2, 8))
    labels = torch.full_like(ids, IGNORE_INDEX)
    labels[0, 3], labels[1, 5] = 7, 9
    loss, logits, targets = model(ids, torch.ones_like(ids), labels)
    assert logits.shape == (2, 50) and targets.tolist() == [7, 9]
    assert torch.isfinite(loss)
    names = [name for name, _ in model.named_parameters()]
    assert sum("word_embeddings" in name for name in names) == 1, "the decoder is tied, not a second matrix"
    loss.backward()
    assert model.encoder.get_input_embeddings().weight.grad[[7, 9]].abs().sum() > 0, "output side trains the embeddings"


def test_fixed_size_gather_gives_the_same_loss_and_gradients_as_boolean_indexing() -> None:
    torch.manual_seed(0)
    exact = tiny_mlm().eval()
    fixed = tiny_mlm().eval()
    fixed.load_state_dict(exact.state_dict())
    fixed.max_predictions_per_seq = 3
    ids = torch.randint(5, 50, (3, 8))
    labels = torch.full_like(ids, IGNORE_INDEX)
    labels[0, [1, 6]], labels[2, [0, 2, 4, 7]] = ids[0, [1, 6]], ids[2, [0, 2, 4, 7]]  # row 1 has none, row 2 four
    mask = torch.ones_like(ids)
    exact_loss, exact_logits, exact_targets = exact(ids, mask, labels)
    fixed_loss, fixed_logits, fixed_targets = fixed(ids, mask, labels)
    assert fixed_logits.shape == (9, 50), "3 predictions per sequence x 3 sequences, whatever was masked"
    assert fixed_targets[:6].tolist() == exact_targets.tolist() and (fixed_targets[6:] == IGNORE_INDEX).all()
    torch.testing.assert_close(fixed_logits[:6], exact_logits)
    torch.testing.assert_close(fixed_loss, exact_loss)
    exact_loss.backward()
    fixed_loss.backward()
    for (name, a), b in zip(exact.named_parameters(), fixed.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, msg=name)


def test_fixed_size_gather_drops_what_exceeds_the_budget() -> None:
    labels = torch.full((2, 4), IGNORE_INDEX)
    labels[0, :3] = 5
    positions = gather_masked_positions(labels, 2)
    assert positions.tolist() == [0, 1]


def test_fixed_size_gather_is_one_graph_compiled_once_whatever_is_masked() -> None:
    """No graph break (boolean indexing has a data-dependent shape, so it breaks the graph and syncs with the host)
    and no recompilation when the number of masked positions changes from batch to batch."""
    torch.manual_seed(0)
    model = tiny_mlm()
    model.max_predictions_per_seq = 4
    ids, mask = torch.randint(5, 50, (2, 8)), torch.ones(2, 8, dtype=torch.long)

    def labels_with(count: int) -> torch.Tensor:
        labels = torch.full_like(ids, IGNORE_INDEX)
        labels.view(-1)[torch.randperm(ids.numel())[:count]] = 7
        return labels

    torch._dynamo.reset()
    explained = torch._dynamo.explain(model)(ids, mask, labels_with(3))
    assert explained.graph_count == 1 and explained.graph_break_count == 0, explained.break_reasons
    torch._dynamo.reset()
    compiled = torch.compile(model, backend="eager", dynamic=False)
    with torch._dynamo.config.patch(error_on_recompile=True):
        for count in (1, 5, 11):
            loss, logits, _ = compiled(ids, mask, labels_with(count))
            assert logits.shape == (8, 50) and torch.isfinite(loss)
    torch._dynamo.reset()
