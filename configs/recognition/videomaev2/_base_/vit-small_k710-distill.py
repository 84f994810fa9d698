# Recipe base: ViT-S/16 from the official distilled model (K710 classifier), the ViT-B
# K710 recipe (vit_b_k710_ft.sh, the schedule base's values): lr 7e-4 per 256 videos,
# 90 epochs (5 warmup), layer decay 0.75, drop path 0.1, head dropout 0.0, weight decay 0.05,
# 8 GPUs x 16 videos. A leaf adds a dataset base and wires in its classes.
_base_ = [
    '../../../_base_/models/vit-small_recognizer.py',
    '../../../_base_/schedules/finetune_adamw_cosine.py',
    '../../../_base_/finetune_runtime.py',
]
# official distilled ViT-S (K710 classifier)
pretrained = 'checkpoints/vit_s_k710_dl_from_giant.pth'
model = dict(backbone=dict(init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=_base_.num_layers))
