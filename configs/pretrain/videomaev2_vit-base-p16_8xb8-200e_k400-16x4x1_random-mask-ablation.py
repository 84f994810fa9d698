# Ablation of VideoMAE V2 pretraining (ViT-B/16, Kinetics-400) towards
# MAE-ST's masking and target, in VideoMAE's model: random spacetime encoder
# masking (90%, drawn per clip), no decoder masking (reconstruct every hidden
# token, as VideoMAE V1) and the target normalized jointly over the whole
# flattened patch. Everything else (fixed sin-cos positions, no cls token,
# q/v biases, the V2 decoder, targets on [0, 1] pixels of all 16 frames,
# ImageNet mean / std, the V2 data and schedule) stays VideoMAE V2's. MAE-ST
# itself: maest_vit-*_k400-16x4x1.py.
_base_ = ['./videomaev2_vit-base-p16_8xb8-200e_k400-16x4x1.py']

train_pipeline = _base_.train_pipeline
assert train_pipeline[-2]['type'] == 'VideoMAEMaskGenerator'
train_pipeline[-2].update(encoder_type='random', decoder_type='none')
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

model = dict(head=dict(norm_pix='joint'))
