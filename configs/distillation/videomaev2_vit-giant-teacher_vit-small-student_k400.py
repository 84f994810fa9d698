# Logit distillation on Kinetics-400: the K710 -> K400 fine-tuned ViT-g
# (vit_g_hybrid_pt_1200e_k710_it_k400_ft) teaches ViT-S, whose encoder starts
# from a K710 (or any VideoMAE) checkpoint and whose classifier is new. The
# recipe otherwise as videomaev2_vit-giant-teacher_vit-small-student_k710.py.
_base_ = [
    '../_base_/models/vit-small_recognizer.py', '../_base_/datasets/k400_finetune.py',
    '../_base_/schedules/finetune_adamw_cosine.py', '../_base_/default_runtime.py'
]
teacher_checkpoint = 'checkpoints/vit_g_hybrid_pt_1200e_k710_it_k400_ft.pth'
student_checkpoint = 'work_dirs/videomaev2_vit-small_k710/best.pth'

student = _base_.model
student.update(data_preprocessor=_base_.data_preprocessor)
student['cls_head']['num_classes'] = _base_.num_classes
student['backbone']['init_cfg'] = dict(type='VideoMAEPretrained', checkpoint=student_checkpoint)
model = dict(
    _delete_=True,
    type='VideoMAEDistiller',
    student=student,
    teacher_cfg='configs/distillation/_base_/videomaev2_vit-giant_k400-teacher.py',
    teacher_checkpoint=teacher_checkpoint,
    temperature=1.,
    alpha=1.)
del student  # lives on as model.student only
optim_wrapper = dict(paramwise_cfg=dict(num_layers=_base_.num_layers))
