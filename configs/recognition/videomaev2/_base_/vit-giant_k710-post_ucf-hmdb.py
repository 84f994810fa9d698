# Recipe base: ViT-g/14 from the K710 post-pretraining on UCF101 / HMDB51, the official
# recipes (scripts/finetune/vit_g_k710_it_{ucf101,hmdb51}_ft.sh): layer decay 0.9,
# drop path 0.35, head dropout 0.5, weight decay 0.05, 5 warmup epochs, 8 GPUs x 3 videos.
# A leaf adds a dataset base, wires in its classes and sets its lr and epochs.
_base_ = [
    '../../../_base_/models/vit-giant_recognizer.py',
    '../../../_base_/schedules/finetune_adamw_cosine.py',
    '../../../_base_/finetune_runtime.py',
]
# official ViT-g post-pretrained on K710
pretrained = 'checkpoints/vit_g_hybrid_pt_1200e_k710_ft.pth'
model = dict(
    backbone=dict(
        drop_path_rate=0.35, init_cfg=dict(type='VideoMAEPretrained', checkpoint=pretrained)),
    cls_head=dict(dropout_ratio=0.5))
videos_per_gpu = 3  # the leaf's train_dataloader.batch_size
batch_videos = 8 * videos_per_gpu
auto_scale_lr = dict(base_batch_size=batch_videos)
optim_wrapper = dict(paramwise_cfg=dict(num_layers=_base_.num_layers, decay_rate=0.9))
