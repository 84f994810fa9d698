# ViT-S AVA detector: the ViT-B base with this size's width, depth and recipe
# (drop path 0.1 and layer decay 0.75 as this project's ViT-S fine-tuning, lr
# as ViT-B; MMAction2 has no ViT-S AVA config).
_base_ = ['./vit-base_fastrcnn_ava.py']
num_layers = 12
embed_dims = 384
pretrained = 'checkpoints/vit_s_k710_dl_from_giant.pth'
model = dict(
    backbone=dict(arch='small', drop_path_rate=0.1,
                  init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)),
    roi_head=dict(bbox_head=dict(in_channels=embed_dims)))
optim_wrapper = dict(optimizer=dict(lr=1.25e-4),
                     paramwise_cfg=dict(num_layers=num_layers, decay_rate=0.75))
