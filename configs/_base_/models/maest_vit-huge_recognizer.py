# MAE-ST fine-tuning model, ViT-H/16 (mae_st models_vit.py vit_huge_patch14,
# which builds 16 x 16 patches): see maest_vit-large_recognizer.py.
_base_ = ['./vit-huge_recognizer.py', './maest_options.py']
model = dict(backbone=_base_.maest_backbone)
