# MAE-ST ViT-H/16 AVA v2.2 detector: MMAction2's ViT AVA recipe of the size
# base (mae_st publishes no AVA recipe) with MAE-ST's encoder switches and
# input normalization (../../_base_/models/maest_options.py) and its layer-0 /
# no-weight-decay rule for the position tables. It starts from this plugin's
# K400 fine-tuning of the released MAE-ST K400 pretraining
# (configs/recognition/maest/vit-huge-p16_maest-k400-pre_8xb2-75e_k400.py), as the paper's AVA
# models start from Kinetics fine-tuned ones.
_base_ = ['../_base_/vit-huge_fastrcnn_ava.py', '../../_base_/datasets/ava22.py',
          '../../_base_/models/maest_options.py']
pretrained = 'work_dirs/vit-huge-p16_maest-k400-pre_8xb2-75e_k400/best.pth'
model = dict(
    backbone=dict(_base_.maest_backbone,
                  init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)),
    data_preprocessor=dict(mean=_base_.maest_mean, std=_base_.maest_std))
optim_wrapper = dict(constructor='VideoMAELayerDecayOptimizerConstructor')
