# VideoMAE V2 logit distillation, the official setting (docs/MODEL_ZOO.md
# "Distillation"): the K710 fine-tuned ViT-g teaches ViT-S on Kinetics-710,
# the student starting from its own K710 post-pretrained weights (official
# result: 77.6 K710 / 83.7 K400 top-1 at 16 x 5 x 3). No official code was
# released: the loss weights and schedule are not published. This config
# uses pure logit distillation (alpha=1: KL at temperature 1, no label term)
# and the student's fine-tuning recipe (data: RandAugment, mixup/cutmix, 2
# clips per video; AdamW, layer-wise lr decay, cosine). The teacher sees the
# student's (mixed) clips; both take 16 x 224^2 clips normalized alike.
# The checkpoints hold the student only and load with its plain recognizer
# config (model = the `student` dict below).
_base_ = [
    '../_base_/models/vit-small_recognizer.py', '../_base_/datasets/k710_finetune.py',
    '../_base_/schedules/finetune_adamw_cosine.py', '../_base_/default_runtime.py'
]
# An official checkpoint as it is downloaded (converted while loading).
teacher_checkpoint = 'checkpoints/vit_g_hybrid_pt_1200e_k710_ft.pth'
# The student's K710 post-pretraining (fine-tuning) checkpoint of this project.
load_from = 'work_dirs/videomaev2_vit-small_k710/best.pth'

student = _base_.model
student.update(data_preprocessor=_base_.data_preprocessor)
student['cls_head']['num_classes'] = _base_.num_classes
model = dict(
    _delete_=True,
    type='VideoMAEDistiller',
    student=student,
    teacher_cfg='configs/distillation/_base_/videomaev2_vit-giant_k710-teacher.py',
    teacher_checkpoint=teacher_checkpoint,
    temperature=1.,
    alpha=1.)
del student  # lives on as model.student only
optim_wrapper = dict(paramwise_cfg=dict(num_layers=_base_.num_layers))
