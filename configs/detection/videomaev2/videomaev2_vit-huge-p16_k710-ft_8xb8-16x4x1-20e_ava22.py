# VideoMAE V2 ViT-huge/16 AVA detector on AVA v2.2.
_base_ = ['../_base_/vit-huge_fastrcnn_ava.py', '../../_base_/datasets/ava22.py']
