# FineAction clip features for ActionFormer: the THUMOS14 settings with a window
# every 16 frames (official extract_tad_feature.py --data_set FINEACTION).
_base_ = ['./vit-giant-p14_k710-ft_16x4-feat_thumos14.py']
feature_cfg = dict(stride=16)
