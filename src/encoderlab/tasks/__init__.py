"""LightningModules, one per objective. They hold a plain `nn.Module` and never parse files."""
