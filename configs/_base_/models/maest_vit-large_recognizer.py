# MAE-ST fine-tuning model, ViT-L/16 (mae_st models_vit.py vit_large_patch16):
# the recognizer of vit-large_recognizer.py with the encoder switches of
# maest_options.py. Its forward is MAE-ST's: cls token and separable tables
# in, no norm over the sequence, mean of the patch tokens (cls left out) ->
# LayerNorm (official `norm`, our `fc_norm`) -> dropout -> Linear.
_base_ = ['./vit-large_recognizer.py', './maest_options.py']
model = dict(backbone=_base_.maest_backbone)
