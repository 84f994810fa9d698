# ViT-g/14 teacher for Kinetics-400 students: post-pretrained on K710, then
# fine-tuned on K400 (official vit_g_hybrid_pt_1200e_k710_it_k400_ft, 88.4
# top-1 at 16 x 5 x 3), 400 classes. See videomaev2_vit-giant_k710-teacher.py.
_base_ = ['../../_base_/models/vit-giant_recognizer.py', '../../_base_/datasets/k400_finetune.py']
model = dict(
    backbone=dict(drop_path_rate=0.),
    cls_head=dict(num_classes=_base_.num_classes),
    data_preprocessor=_base_.data_preprocessor)
