# The official ViT-g recipe on top of the 300-epoch schedule: lr 6e-4 per 256
# clips, gradient clipping at 0.02, fp16 autocast with dynamic loss scaling.
_base_ = ['./pretrain_adamw_cosine_300e.py']
optim_wrapper = dict(
    type='AmpOptimWrapper', loss_scale='dynamic', optimizer=dict(lr=6e-4),
    clip_grad=dict(max_norm=0.02))
