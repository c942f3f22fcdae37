"""From a trained checkpoint to predictions: loading, batching, backends (PyTorch, int8, ONNX Runtime), export."""
