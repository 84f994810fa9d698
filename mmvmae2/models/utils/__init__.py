from .pos_embed import resize_pos_embed, sinusoid_position_table
from .transformer import Attention, Mlp, PatchEmbed3D, TransformerBlock

__all__ = ['sinusoid_position_table', 'resize_pos_embed', 'Attention', 'Mlp', 'TransformerBlock',
           'PatchEmbed3D']
