"""Training: `train(cfg)` builds the data module, task, callbacks, loggers and Trainer from a composed config,
fits, tests the best checkpoint and writes the run's `summary.json`; checkpoints, resuming, schedules, fine-tuning
set-ups and multi-process state live beside it.

May import: everything but `cli` (the command lines sit on top of this room)."""
