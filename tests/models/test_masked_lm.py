import torch

from encoderlab.models.masked_lm import IGNORE_INDEX, MaskedLanguageModel
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
    assert model.encoder.input_embeddings.weight.grad[[7, 9]].abs().sum() > 0, "output side trains the embeddings"
