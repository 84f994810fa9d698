# VideoMAE V2 ViT-small/16 AVA detector on AVA v2.2.
_base_ = ['../_base_/vit-small_fastrcnn_ava.py', '../../_base_/datasets/ava22.py']
