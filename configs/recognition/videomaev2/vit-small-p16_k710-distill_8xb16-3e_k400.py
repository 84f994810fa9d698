# ViT-S/16 fine-tuned on Kinetics-400 from the model distilled on K710.
# Recipe: adapted: the ViT-g K710 -> K400 recipe (vit_g_k710_it_k400_ft.sh) with the ViT-B layer
# decay; no official script:
# lr 1e-5 per 256 videos, 3 epochs (1 warmup), layer decay 0.75, drop path 0.1,
# head dropout 0.0, weight decay 0.1.
_base_ = ['./_base_/vit-small_k710-distill.py', '../../_base_/datasets/k400_finetune.py']
model = dict(
    cls_head=dict(
        num_classes=_base_.num_classes,
        # K710 classifier rows picked by the 710 -> 400 map (official
        # misc/label_710to400.json; tools/data/build_k710.py writes it).
        init_cfg=dict(_delete_=True, type='VideoMAEPretrained', checkpoint=_base_.pretrained,
                      class_map='data/kinetics710/label_710to400.json')),
    data_preprocessor=_base_.data_preprocessor)
lr_per_256 = 1e-5
lr = lr_per_256 * _base_.batch_videos / 256
warmup_epochs = 1
max_epochs = 3
optim_wrapper = dict(optimizer=dict(lr=lr, weight_decay=0.1))
param_scheduler = _base_.param_scheduler
param_scheduler[0].update(end=warmup_epochs)  # LinearLR warmup
# CosineAnnealingLR
param_scheduler[1].update(begin=warmup_epochs, end=max_epochs,
                          eta_min_ratio=_base_.min_lr_per_256 / lr_per_256)
train_cfg = dict(max_epochs=max_epochs)
