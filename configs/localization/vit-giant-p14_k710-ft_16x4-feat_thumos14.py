# THUMOS14 clip features for ActionFormer, as the official VideoMAE V2-g features
# (extract_tad_feature.py, docs/TAD.md: th14_mae_g_16_4): the ViT-g/14 recognizer
# fine-tuned on Kinetics-710, 16 consecutive frames (interval 1) every 4 frames,
# each frame resized to 224 x 224 (no crop), one fc_norm-ed mean token (1408
# channels) per window. Run with tools/extract_features.py (the model, the
# recipe and the mean/std come from the K710 config; feature_cfg adds the
# windows). normalize=True feeds the training mean/std; --no-normalize feeds
# x / 255 as the official script (to match the published features).
_base_ = ['../recognition/videomaev2/vit-giant-p14_hybrid-pre_8xb3-35e_k710.py']
# official vit_g_hybrid_pt_1200e_k710_ft.pth (or this project's K710 run)
k710_checkpoint = 'checkpoints/vit_g_hybrid_pt_1200e_k710_ft.pth'
model = dict(backbone=dict(init_cfg=dict(type='VideoMAEPretrained', checkpoint=k710_checkpoint)))
feature_cfg = dict(window=16, stride=4, frame_interval=1, frame_size=(224, 224), normalize=True)
