# ViT-H/16 fine-tuned on Kinetics-400 from MAE-ST's Kinetics-400 pretraining.
# Recipe: ./_base_/vit-huge_maest-k400-pre.py (PySlowFast k400_VIT_H_16x4_FT.yaml)
_base_ = ['./_base_/vit-huge_maest-k400-pre.py', '../../_base_/datasets/k400_finetune_maest.py']
model = dict(cls_head=dict(num_classes=_base_.num_classes),
             data_preprocessor=_base_.data_preprocessor)
train_dataloader = dict(batch_size=_base_.videos_per_gpu)
