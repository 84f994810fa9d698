# The switches that make the project's ViT, decoder and head MAE-ST's
# (facebookresearch/mae_st: models_mae.py, models_vit.py, util/video_vit.py;
# main_pretrain.py / main_finetune.py defaults --sep_pos_embed --cls_embed,
# qkv bias on). Pretraining and fine-tuning bases and the demo merge them into
# their parts, so each fact is written once:
# - encoder: learned separable position tables (spatial, temporal, class), a
#   cls token dropped from every output, one q/k/v projection with full bias;
# - decoder: MAE's (mask tokens for the hidden tokens, predictions for all
#   tokens), its own cls token and separable tables, `decoder_embed` with bias;
#   512 wide, 4 blocks of 16 heads (PRETRAIN.md --decoder_embed_dim 512
#   --decoder_depth 4, main_pretrain.py --decoder_num_heads 16, mlp_ratio 4)
#   for every encoder size;
# - head: the target normalized over the whole patch (--norm_pix_loss, eps
#   inside the square root) on the normalized model input, `pred_t_dim` frames
#   (set with the clip length by the model base);
# - mean / std 0.45 / 0.225 on [0, 1] frames for every channel
#   (util/kinetics.py), i.e. 114.75 / 57.375 on 0-255 frames.
maest_backbone = dict(sep_pos_embed=True, with_cls_token=True, qkv_bias='qkv')
maest_neck = dict(
    arch=dict(embed_dims=512, num_layers=4, num_heads=16, feedforward_channels=2048),
    mode='mae',
    sep_pos_embed=True,
    with_cls_token=True,
    qkv_bias='qkv',
    embed_bias=True)
maest_head = dict(norm_pix='joint', target_space='input')
maest_mean = [0.45 * 255] * 3
maest_std = [0.225 * 255] * 3
