"""Speed benchmark: our models against the peers users would otherwise pick (HF `transformers`, `torch.nn.Transformer`,
raw `nn.LSTM`), same shapes, precision and optimizer, in one process. Entry point: `encoderlab.cli.bench`.

May import: `models`, `optim`, `callbacks`, `config`, `report` (provenance), `hardware`."""
