# Teacher of the official distillation (docs/MODEL_ZOO.md "Distillation" of
# OpenGVLab/VideoMAEv2): ViT-g/14 fine-tuned on Kinetics-710
# (vit_g_hybrid_pt_1200e_k710_ft), 16 x 224^2 clips, 710 classes. The
# distillation configs pass this file as `teacher_cfg` (read from the
# working directory, the repository root): only its `model` is used, and its
# data preprocessor only to check that the student normalizes the same way.
_base_ = ['../../_base_/models/vit-giant_recognizer.py', '../../_base_/datasets/k710_finetune.py']
model = dict(
    backbone=dict(drop_path_rate=0.),
    cls_head=dict(num_classes=_base_.num_classes),
    data_preprocessor=_base_.data_preprocessor)
