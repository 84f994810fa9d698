# VideoMAE V2 ViT-base/16 AVA detector on AVA v2.2.
_base_ = ['../_base_/vit-base_fastrcnn_ava.py', '../../_base_/datasets/ava22.py']
