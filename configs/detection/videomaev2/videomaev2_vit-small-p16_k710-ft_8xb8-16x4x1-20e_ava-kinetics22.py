# VideoMAE V2 ViT-small/16 AVA detector on AVA-Kinetics (v2.2 actions).
_base_ = ['../_base_/vit-small_fastrcnn_ava.py', '../../_base_/datasets/ava_kinetics22.py']
