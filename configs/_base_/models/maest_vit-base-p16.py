# MAE-ST pretraining model, ViT-B/16 on 16 x 224^2 clips (mae_st models_mae.py
# mae_vit_base_patch16 built by main_pretrain.py with the PRETRAIN.md flags):
# 2 x 16 x 16 tokens (--t_patch_size 2), LayerNorm eps 1e-6, no drop path,
# Xavier-uniform Linear layers (initialize_weights with trunc_init False), and
# the MAE-ST switches of maest_options.py. The head's target is
# `pred_t_dim` = 8 of the 16 frames (--pred_t_dim 8, picked by linspace); the
# pretrainer derives the decoder's frames per token from it
# (t_pred_patch_size = 2 * 8 // 16 = 1).
# A size variant only changes `backbone.arch`; the decoder stays 512 x 4.
_base_ = ['./videomaev2_vit-base-p16.py', './maest_options.py']
pred_t_dim = 8
model = dict(
    backbone=_base_.maest_backbone,
    neck=_base_.maest_neck,
    head=dict(_base_.maest_head, target_frames=pred_t_dim),
    data_preprocessor=dict(mean=_base_.maest_mean, std=_base_.maest_std))
