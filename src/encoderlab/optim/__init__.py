"""What trains and how fast: optimizer parameter groups (weight decay on matrices only, layer-wise LR decay),
learning-rate schedules (step-keyed and `scheduler=time_budget`), and the fine-tuning set-ups that decide which
parameters train (`finetune=full|freeze|linear_probe|lora`).

May import: `models`, `errors`."""
