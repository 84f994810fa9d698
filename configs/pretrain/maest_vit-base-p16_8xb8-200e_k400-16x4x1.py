# MAE-ST style variant (Feichtenhofer et al., 2022) in the same framework:
# random spacetime encoder masking (90%), no decoder masking (reconstruct
# every hidden token, as VideoMAE V1) and the target normalized jointly over
# the whole flattened patch.
_base_ = ['./videomaev2_vit-base-p16_8xb8-200e_k400-16x4x1.py']

train_pipeline = _base_.train_pipeline
assert train_pipeline[-2]['type'] == 'VideoMAEMaskGenerator'
train_pipeline[-2].update(encoder_type='random', decoder_type='none')
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

model = dict(head=dict(norm_pix='joint'))
