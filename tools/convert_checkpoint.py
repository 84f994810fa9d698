"""Convert a VideoMAE (V1 / V2) or MAE-ST checkpoint to mmvmae2's layout.

Sources: official VideoMAE V2 / V1 pretraining and fine-tuned checkpoints
(also DeepSpeed ``module`` and ``torch.compile`` / DDP prefixes), MAE-ST
(facebookresearch/mae_st) pretraining and fine-tuned checkpoints (``model`` or
PySlowFast's ``model_state``), MMAction2 1.2.0 ``VisionTransformer``
recognizers, HF transformers VideoMAE models and mmvmae2 itself. The output
is an mmengine-style checkpoint ``{'state_dict': ..., 'meta': {...}}`` that
``load_from`` / ``init_cfg`` ``Pretrained`` accept.

Example::

    python tools/convert_checkpoint.py vit_b_k710_dl_from_giant.pth \
        work_dirs/vit_b_k710_mmvmae2.pth
"""
import argparse
import os.path as osp
import sys
from collections import Counter

import torch

_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _ROOT not in sys.path:  # run from a source checkout without installing
    sys.path.insert(0, _ROOT)

from mmvmae2.models.checkpoint_convert import (LAYOUTS, CheckpointLoadError,  # noqa: E402
                                               convert_state_dict, load_checkpoint_file,
                                               unwrap_checkpoint)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='checkpoint to convert (.pth / .pt / .bin / .safetensors)')
    parser.add_argument('dst', help='where to write the converted checkpoint')
    parser.add_argument('--source', default='auto', choices=['auto', *LAYOUTS],
                        help='layout of SRC (default: detect it)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        checkpoint = load_checkpoint_file(args.src)
        num_read = len(unwrap_checkpoint(checkpoint))
        state_dict, layout = convert_state_dict(checkpoint, args.source)
    except (CheckpointLoadError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    torch.save({'state_dict': state_dict,
                'meta': {'converted_from': layout, 'source_file': osp.abspath(args.src)}},
               args.dst)
    groups = Counter(key.split('.', 1)[0] for key in state_dict)
    print(f'layout: {layout}' + (' (detected)' if args.source == 'auto' else ''))
    print(f'keys read: {num_read}')
    print(f'keys written: {len(state_dict)} (' +
          ', '.join(f'{name} {count}' for name, count in sorted(groups.items())) + ')')
    print(f'saved: {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
