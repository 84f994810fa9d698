# ViT-L AVA detector: the ViT-B base with this size's width, depth and recipe
# (MMAction2's ViT-L AVA config: lr 2.5e-4, layer decay 0.8, drop path 0.2).
_base_ = ['./vit-base_fastrcnn_ava.py']
num_layers = 24
embed_dims = 1024
pretrained = 'checkpoints/vit_l_hybrid_pt_800e_k710_ft.pth'
model = dict(
    backbone=dict(arch='large', drop_path_rate=0.2,
                  init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)),
    roi_head=dict(bbox_head=dict(in_channels=embed_dims)))
optim_wrapper = dict(optimizer=dict(lr=2.5e-4),
                     paramwise_cfg=dict(num_layers=num_layers, decay_rate=0.8))
