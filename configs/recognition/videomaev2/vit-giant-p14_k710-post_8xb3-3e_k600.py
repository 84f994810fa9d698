# ViT-g/14 fine-tuned on Kinetics-600 from the K710 post-pretraining.
# Recipe: official scripts/finetune/vit_g_k710_it_k600_ft.sh:
# lr 1e-5 per 256 videos, 3 epochs (1 warmup), layer decay 0.9, drop path 0.25,
# head dropout 0.0, weight decay 0.1.
_base_ = ['./_base_/vit-giant_k710-post_kinetics.py', '../../_base_/datasets/k600_finetune.py']
model = dict(
    cls_head=dict(
        num_classes=_base_.num_classes,
        # K710 classifier rows picked by the 710 -> 600 map (official
        # misc/label_710to600.json; tools/data/build_k710.py writes it).
        init_cfg=dict(class_map='data/kinetics710/label_710to600.json')),
    data_preprocessor=_base_.data_preprocessor)
train_dataloader = dict(batch_size=_base_.videos_per_gpu)
