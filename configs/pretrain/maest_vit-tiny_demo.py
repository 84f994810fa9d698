# CPU demo of MAE-ST pretraining: the VideoMAE V2 demo
# (videomaev2_vit-tiny_demo.py: the tiny ViT, its decoder size, the demo
# videos, crops and schedule) with MAE-ST's model (maest_options.py: separable
# learned positions, cls tokens, q/k/v biases, MAE's decoder, the target
# normalized over the whole patch of the normalized input, mean / std 0.45 /
# 0.225) and masks: 90% random per clip (256 tokens -> 25 visible), no decoder
# masking, 4 of the 8 frames predicted (one per 2-frame token, as 8 of 16).
#   python tools/make_demo_data.py data/demo
#   python tools/train.py configs/pretrain/maest_vit-tiny_demo.py
_base_ = ['./videomaev2_vit-tiny_demo.py', '../_base_/models/maest_options.py']

pred_t_dim = 4
model = dict(
    backbone=_base_.maest_backbone,
    neck=dict(_base_.maest_neck, arch=_base_.model.neck.arch),
    head=dict(_base_.maest_head, target_frames=pred_t_dim),
    data_preprocessor=dict(mean=_base_.maest_mean, std=_base_.maest_std))

train_pipeline = _base_.train_pipeline
assert train_pipeline[-2]['type'] == 'VideoMAEMaskGenerator'
train_pipeline[-2].update(encoder_type='random', decoder_type='none')
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
