# ViT-B/16 fine-tuned on Kinetics-700 from the UnlabeledHybrid pretraining.
# Recipe: adapted: the ViT-B K400 recipe (vit_b_k400_ft.sh):
# lr 7e-4 per 256 videos, 90 epochs (5 warmup), layer decay 0.75, drop path 0.1,
# head dropout 0.0, weight decay 0.05.
_base_ = [
    '../../_base_/models/vit-base_recognizer.py',
    '../../_base_/datasets/k700_finetune.py',
    '../../_base_/schedules/finetune_adamw_cosine.py',
    '../../_base_/finetune_runtime.py',
]
# official ViT-B pretraining (or this project's)
pretrained = 'checkpoints/vit_b_hybrid_pt_800e.pth'
model = dict(
    backbone=dict(
        init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)),
    cls_head=dict(num_classes=_base_.num_classes),
    data_preprocessor=_base_.data_preprocessor)
optim_wrapper = dict(paramwise_cfg=dict(num_layers=_base_.num_layers))
