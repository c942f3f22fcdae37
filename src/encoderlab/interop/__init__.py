"""Weights in and out of the project: pretrained encoder folders (`model.pretrained=<dir>`, what masked-LM
pretraining writes) and conversion to and from HF transformers' `BertModel`.

May import: `models`, `data` (tokenizers), `errors`."""
