"""Training: `train(cfg)` builds the data module, task, callbacks, loggers and Trainer from a composed config,
fits, tests the best checkpoint and writes the run's `summary.json`; checkpoints, resuming, schedules, fine-tuning
set-ups and multi-process state live beside it.

May import: `tasks`, `data`, `models`, `optim`, `callbacks`, `config`, `hardware`, `interop`, `report`,
`word_vectors`: every room but `cli`, `inference`, `serving` and `bench` (which sit beside or on top of it)."""
