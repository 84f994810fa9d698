# Recipe base: ViT-B/16 from the official distilled model (K710 classifier) on the small
# datasets, the ViT-g UCF101 / HMDB51 recipes (vit_g_k710_it_{ucf101,hmdb51}_ft.sh) with the
# ViT-B layer decay and drop path: layer decay 0.75, drop path 0.1, head dropout 0.5,
# weight decay 0.05, 5 warmup epochs, 8 GPUs x 16 videos.
# A leaf adds a dataset base, wires in its classes and sets its lr and epochs.
_base_ = [
    '../../../_base_/models/vit-base_recognizer.py',
    '../../../_base_/schedules/finetune_adamw_cosine.py',
    '../../../_base_/finetune_runtime.py',
]
# official distilled ViT-B (K710 classifier)
pretrained = 'checkpoints/vit_b_k710_dl_from_giant.pth'
model = dict(
    backbone=dict(init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)),
    cls_head=dict(dropout_ratio=0.5))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=_base_.num_layers))
