from .vit import ARCH_SETTINGS, VideoMAEViT, VideoMAEVisionTransformer

__all__ = ['VideoMAEViT', 'VideoMAEVisionTransformer', 'ARCH_SETTINGS']
