from .videomae_decoder import DECODER_SETTINGS, VideoMAEPretrainDecoder, decoder_query_positions

__all__ = ['VideoMAEPretrainDecoder', 'DECODER_SETTINGS', 'decoder_query_positions']
