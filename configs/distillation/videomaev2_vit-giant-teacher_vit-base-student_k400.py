# ViT-B student on Kinetics-400: videomaev2_vit-giant-teacher_vit-small-student_k400.py
# with the student's size changed.
_base_ = ['./videomaev2_vit-giant-teacher_vit-small-student_k400.py']
student_checkpoint = 'work_dirs/videomaev2_vit-base_k710/best.pth'
model = dict(
    student=dict(
        backbone=dict(arch='base', init_cfg=dict(checkpoint=student_checkpoint)),
        cls_head=dict(in_channels=768)))
