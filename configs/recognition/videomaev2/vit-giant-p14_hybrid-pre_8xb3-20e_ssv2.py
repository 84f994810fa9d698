# ViT-g/14 fine-tuned on Something-Something V2 from the UnlabeledHybrid pretraining.
# Recipe: official scripts/finetune/vit_g_ssv2_ft.sh:
# lr 3e-4 per 256 videos, 20 epochs (5 warmup), layer decay 0.9, drop path 0.25,
# head dropout 0.0, weight decay 0.05.
_base_ = ['./_base_/vit-giant_hybrid-pre_ssv2.py', '../../_base_/datasets/ssv2_finetune.py']
model = dict(cls_head=dict(num_classes=_base_.num_classes),
             data_preprocessor=_base_.data_preprocessor)
train_dataloader = dict(batch_size=_base_.videos_per_gpu)
