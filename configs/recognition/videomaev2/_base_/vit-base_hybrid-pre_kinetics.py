# Recipe base: ViT-B/16 from the UnlabeledHybrid pretraining, the official Kinetics recipe
# (scripts/finetune/vit_b_k400_ft.sh = vit_b_k710_ft.sh, the schedule base's values):
# lr 7e-4 per 256 videos, 90 epochs (5 warmup), layer decay 0.75, drop path 0.1,
# head dropout 0.0, weight decay 0.05, 8 GPUs x 16 videos.
# A leaf adds a dataset base and wires in its classes.
_base_ = [
    '../../../_base_/models/vit-base_recognizer.py',
    '../../../_base_/schedules/finetune_adamw_cosine.py',
    '../../../_base_/finetune_runtime.py',
]
# official ViT-B pretraining (or this project's)
pretrained = 'checkpoints/vit_b_hybrid_pt_800e.pth'
model = dict(backbone=dict(init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=_base_.num_layers))
