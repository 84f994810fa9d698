# DeepSpeed ZeRO-2 with MMEngine's FlexibleRunner and DeepSpeedStrategy
# (`pip install deepspeed`; not a dependency of mmvmae2, and GPU only).
# docs/scaling.md compares it with FSDP. A leaf lists it after its recipe in
# `_base_`, restates the optim wrapper as DeepSpeedOptimWrapper (optimizer
# and paramwise_cfg only: DeepSpeed does the clipping, mixed precision and
# accumulation) and moves the recipe's gradient clipping to
# `strategy.gradient_clipping`; `zero_optimization.stage=3` makes it ZeRO-3.
#
# - stage 2: AdamW states and gradients partitioned over the GPUs, the fp32
#   master weights too; each GPU keeps the bf16 working copy of all
#   parameters. stage 3 partitions those as well (FSDP FULL_SHARD).
# - bf16: DeepSpeed runs the model in bf16 and casts the `inputs` to it
#   (`inputs_to_half`): the pretraining target is then built from bf16 pixels
#   (about 3 significant digits); FSDP (configs/_base_/strategies/fsdp.py) keeps
#   them fp32. The official fine-tuning used DeepSpeed fp16 without ZeRO
#   (utils.create_ds_config: initial scale 2 ** 7, window 128):
#   fp16=dict(enabled=True, initial_scale_power=7, loss_scale_window=128)
#   instead of bf16 gives that.
# - torch's AdamW inside ZeRO is "untested" for DeepSpeed: allowed explicitly.
# - Activation checkpointing per block: the model's `with_cp`.
runner_type = 'FlexibleRunner'
strategy = dict(
    type='DeepSpeedStrategy',
    config=dict(zero_allow_untested_optimizer=True),
    zero_optimization=dict(
        stage=2, overlap_comm=True, contiguous_gradients=True, reduce_scatter=True,
        allgather_bucket_size=int(5e8), reduce_bucket_size=int(5e8)),
    bf16=dict(enabled=True),
    inputs_to_half=['inputs'])
