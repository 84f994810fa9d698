from .videomae_head import VideoMAEPretrainHead, normalize_patches, patchify, unpatchify

__all__ = ['VideoMAEPretrainHead', 'patchify', 'unpatchify', 'normalize_patches']
