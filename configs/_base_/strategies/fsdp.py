# Fully sharded data parallel training with MMEngine's FlexibleRunner and its
# FSDPStrategy (VideoMAEFSDPStrategy: two fixes for MMEngine 0.10.7, see
# mmvmae2/engine/strategies.py; docs/scaling.md has the memory plan). A leaf
# lists it after its recipe in `_base_` and sets the optim wrapper to
# VideoMAEAmpOptimWrapper (bf16 autocast; two bases cannot set one key).
#
# - FULL_SHARD (ZeRO-3): parameters, gradients and AdamW states sharded over
#   all GPUs; one FSDP unit per transformer block of encoder and decoder, so
#   only one block's full parameters are gathered at a time.
#   SHARD_GRAD_OP (ZeRO-2) keeps the gathered parameters from forward to
#   backward: less communication, more memory (see docs/scaling.md).
# - bf16 mixed precision in FSDP's own form: parameters gathered and used in
#   bf16, gradients reduced in fp32, fp32 master weights and AdamW states in
#   the shards. The inputs stay fp32 (`cast_root_forward_inputs=False`): the
#   pretraining target is built from fp32 pixels, and the bf16 autocast of
#   the leaf's optim wrapper (VideoMAEAmpOptimWrapper, with its non-finite
#   step guard) casts them for the matrix multiplies. bf16 needs no loss
#   scaling (fp16 with FSDP would need a sharded grad scaler): A100 / H100.
# - Activation checkpointing per block comes from the model (`with_cp=True`
#   of encoder and decoder). FSDPStrategy can wrap the blocks itself instead
#   (activation_checkpointing=dict(
#       check_fn='mmvmae2.engine.strategies.is_transformer_block')):
#   use one of the two, never both.
# - Checkpoints: the full (unsharded) state dict and optimizer state,
#   gathered on rank 0 and offloaded to CPU: one ordinary .pth file that
#   resumes under sharding, and that the fine-tuning configs and
#   tools/convert_checkpoint.py read. (`state_dict_cfg='local'` writes one
#   shard per rank instead, a directory tied to the number of GPUs.)
runner_type = 'FlexibleRunner'
strategy = dict(
    type='VideoMAEFSDPStrategy',
    model_wrapper=dict(
        type='MMFullyShardedDataParallel',
        sharding_strategy='FULL_SHARD',
        auto_wrap_policy=dict(type='mmvmae2.engine.strategies.wrap_transformer_blocks'),
        mixed_precision=dict(param_dtype='bfloat16', reduce_dtype='float32',
                             buffer_dtype='float32', cast_root_forward_inputs=False),
        use_orig_params=True),
    state_dict_cfg='full')
