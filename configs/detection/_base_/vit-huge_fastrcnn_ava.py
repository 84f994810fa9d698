# ViT-H AVA detector: the ViT-B base with this size's width, depth and recipe
# (lr and layer decay of ViT-L, drop path 0.2 as the ViT-H fine-tuning;
# activation checkpointing).
_base_ = ['./vit-base_fastrcnn_ava.py']
num_layers = 32
embed_dims = 1280
pretrained = 'checkpoints/vit_h_hybrid_pt_800e_k710_ft.pth'
model = dict(
    backbone=dict(arch='huge', drop_path_rate=0.2, with_cp=True,
                  init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)),
    roi_head=dict(bbox_head=dict(in_channels=embed_dims)))
optim_wrapper = dict(optimizer=dict(lr=2.5e-4),
                     paramwise_cfg=dict(num_layers=num_layers, decay_rate=0.8))
