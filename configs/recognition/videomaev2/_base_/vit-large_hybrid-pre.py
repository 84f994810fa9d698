# Recipe base: ViT-L/16 from the UnlabeledHybrid pretraining, the official ViT-L recipes
# (scripts/finetune/vit_l_{k400,ssv2}_ft.sh): layer decay 0.75, drop path 0.2,
# head dropout 0.0, weight decay 0.05, 5 warmup epochs, 8 GPUs x 6 videos.
# A leaf adds a dataset base, wires in its classes and sets its lr and epochs.
_base_ = [
    '../../../_base_/models/vit-large_recognizer.py',
    '../../../_base_/schedules/finetune_adamw_cosine.py',
    '../../../_base_/finetune_runtime.py',
]
# official ViT-L pretraining (or this project's)
pretrained = 'checkpoints/vit_l_hybrid_pt_1200e.pth'
model = dict(
    backbone=dict(
        drop_path_rate=0.2, init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)))
videos_per_gpu = 6  # the leaf's train_dataloader.batch_size
batch_videos = 8 * videos_per_gpu
auto_scale_lr = dict(base_batch_size=batch_videos)
optim_wrapper = dict(paramwise_cfg=dict(num_layers=_base_.num_layers))
