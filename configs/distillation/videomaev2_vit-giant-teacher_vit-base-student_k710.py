# ViT-B student of the official distillation (81.5 K710 / 86.6 K400 top-1 at
# 16 x 5 x 3): videomaev2_vit-giant-teacher_vit-small-student_k710.py with
# the student's size changed.
_base_ = ['./videomaev2_vit-giant-teacher_vit-small-student_k710.py']
load_from = 'work_dirs/videomaev2_vit-base_k710/best.pth'
model = dict(student=dict(backbone=dict(arch='base'), cls_head=dict(in_channels=768)))
