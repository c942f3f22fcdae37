"""LightningModules, one per objective. They hold a plain `nn.Module` (built by `models.build`), own the metric they
monitor (`objective`), and write checkpoints that name their class (`checkpoint_file` reads them safely).

May import: `models`, `optim`, `interop` (pretrained weights), `data` (the encoding spec), `errors`."""
