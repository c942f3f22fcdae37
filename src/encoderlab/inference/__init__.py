"""From a trained checkpoint to predictions: loading, batching, backends (PyTorch, int8, ONNX Runtime), export.

May import: `tasks`, `models`, `data`, `errors`; never `cli` (the command lines sit on top of it)."""
