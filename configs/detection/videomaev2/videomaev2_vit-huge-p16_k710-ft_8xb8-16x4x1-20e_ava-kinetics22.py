# VideoMAE V2 ViT-huge/16 AVA detector on AVA-Kinetics (v2.2 actions).
_base_ = ['../_base_/vit-huge_fastrcnn_ava.py', '../../_base_/datasets/ava_kinetics22.py']
