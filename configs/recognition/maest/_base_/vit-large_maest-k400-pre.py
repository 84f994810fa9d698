# Recipe base: ViT-L/16 from MAE-ST's Kinetics-400 pretraining (the released
# mae_pretrain_vit_large_k400.pth of mae_st README.md: mask ratio 0.9, 1600
# effective epochs), the official ViT-L recipe (mae_st FINETUNE.md, 84.35
# top-1 on K400): blr 2.4e-3 per 256 clips, 50 epochs (5 warmup), layer decay
# 0.75, drop path 0.2, head dropout 0.3, weight decay 0.05, gradient clipping
# 5, 8 GPUs x 2 videos x 2 clips (the schedule base's values).
# A leaf adds a dataset base and wires in its classes.
_base_ = [
    '../../../_base_/models/maest_vit-large_recognizer.py',
    '../../../_base_/schedules/maest_finetune_adamw_cosine.py',
    '../../../_base_/finetune_runtime.py',
]
# official MAE-ST pretraining (or this project's), read by the 'maest_pretrain' converter
pretrained = 'checkpoints/mae_pretrain_vit_large_k400.pth'
model = dict(
    backbone=dict(
        drop_path_rate=0.2, init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)),
    cls_head=dict(dropout_ratio=0.3))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=_base_.num_layers))
