# ViT-g/14 AVA detector: the ViT-B base with this size's width, depth and recipe
# (layer decay 0.9 and drop path 0.25 as the ViT-g fine-tuning, lr of ViT-L;
# activation checkpointing; inputs sized by 14: see the giant leaves).
_base_ = ['./vit-base_fastrcnn_ava.py']
num_layers = 40
embed_dims = 1408
pretrained = 'checkpoints/vit_g_hybrid_pt_1200e_k710_ft.pth'
model = dict(
    backbone=dict(arch='giant', drop_path_rate=0.25, with_cp=True,
                  init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)),
    roi_head=dict(bbox_head=dict(in_channels=embed_dims)))
optim_wrapper = dict(optimizer=dict(lr=2.5e-4),
                     paramwise_cfg=dict(num_layers=num_layers, decay_rate=0.9))
