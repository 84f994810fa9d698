# VideoMAE V2 pretraining model, ViT-g/14 (1B parameters), with activation
# checkpointing of encoder and decoder. 16 x 224^2 -> 8 x 16 x 16 = 2048
# tokens; the target of a token has 2 x 14 x 14 x 3 = 1176 values.
_base_ = ['./videomaev2_vit-base-p16.py']
model = dict(backbone=dict(arch='giant', with_cp=True), neck=dict(with_cp=True))
