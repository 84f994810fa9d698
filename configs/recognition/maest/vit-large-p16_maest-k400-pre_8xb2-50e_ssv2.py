# ViT-L/16 fine-tuned on Something-Something V2 from MAE-ST's Kinetics-400 pretraining.
# Recipe: ./_base_/vit-large_maest-k400-pre.py (mae_st FINETUNE.md); mae_st
# publishes no SSv2 recipe, the Kinetics one is used on the SSv2 data
_base_ = ['./_base_/vit-large_maest-k400-pre.py', '../../_base_/datasets/ssv2_finetune_maest.py']
model = dict(cls_head=dict(num_classes=_base_.num_classes),
             data_preprocessor=_base_.data_preprocessor)
train_dataloader = dict(batch_size=_base_.videos_per_gpu)
