# CPU demo of feature extraction: the tiny recognizer of `make demo-finetune`
# (192 channels, 8 x 8 patches) over 16-frame windows every 4 frames of the
# 64 x 64-resized demo videos (`make demo`: 64 frames -> 13 features each).
# The position table is built for 16 frames; VideoMAEPretrained resizes a
# stored learnable table of the checkpoint to that grid.
_base_ = ['../recognition/demo/videomaev2_vit-tiny_demo-pretrained_demo-lighting.py']
model = dict(backbone=dict(num_frames=16))
feature_cfg = dict(window=16, stride=4, frame_interval=1, frame_size=(64, 64), normalize=True)
