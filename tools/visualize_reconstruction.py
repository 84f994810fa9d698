"""Save a picture of what a pretrained VideoMAE (V2) model reconstructs.

Rows, for a few consecutive token slices of one clip of VIDEO:

    original        the input frames
    masked input    what the encoder sees (hidden tokens greyed out)
    reconstruction  visible tokens + the prediction at the tokens the decoder
                    reconstructs (hidden tokens it does not reconstruct stay grey)
    decoder mask    white = reconstructed (in the loss), grey = encoder-visible,
                    black = dropped by the decoder mask

The clip is taken as the model was trained (frame count, interval, crop size,
patch/tubelet size and mask types are read from the config's training
pipeline) but deterministically: the middle clip, short side resized to the
crop size and centre-cropped, masks drawn with ``--seed``. The prediction is a
per-patch normalized target, shown with each patch's own mean and std (as in
the VideoMAE papers' figures).

Usage::

    python tools/visualize_reconstruction.py CONFIG CHECKPOINT VIDEO \
        [--out reconstruction.png] [--num-slices 4] [--seed 0]
"""
import argparse
import os
import os.path as osp
from typing import List, Optional

import cv2
import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

from mmvmae2.compat import checkpoint_loading

GREY = 0.5


def parse_args():
    parser = argparse.ArgumentParser(description='Visualize a VideoMAE reconstruction')
    parser.add_argument('config', help='the config the model was trained with')
    parser.add_argument('checkpoint', help='checkpoint file (mmengine or converted official)')
    parser.add_argument('video', help='a video file')
    parser.add_argument('--out', default='reconstruction.png', help='output PNG')
    parser.add_argument('--num-slices', type=int, default=4,
                        help='token slices (of tubelet_size frames) to show')
    parser.add_argument('--seed', type=int, default=0, help='seed of the masks')
    parser.add_argument('--device', default='cpu', help='device, e.g. cpu or cuda:0')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, as in tools/train.py')
    return parser.parse_args()


def find_train_pipeline(cfg: Config) -> List[dict]:
    """The training pipeline of a config (plain or hybrid dataset)."""
    dataset = cfg.get('train_dataloader', {}).get('dataset', {})
    for candidate in (dataset.get('pipeline'),
                      (dataset.get('sources') or [{}])[0].get('pipeline'),
                      cfg.get('train_pipeline')):
        if candidate:
            return list(candidate)
    raise KeyError(f'{cfg.filename}: no training pipeline found in train_dataloader.dataset '
                   '(pipeline or sources[0].pipeline) nor in train_pipeline')


def _flatten(pipeline: List[dict]) -> List[dict]:
    out = []
    for t in pipeline:
        out.append(t)
        out.extend(_flatten(t.get('transforms', [])) if isinstance(t, dict) else [])
    return out


def _first(transforms: List[dict], type_name: str, config: str) -> dict:
    for t in transforms:
        if isinstance(t, dict) and t.get('type') == type_name:
            return t
    raise KeyError(f'{config}: the training pipeline has no {type_name}; cannot tell how '
                   'the model was trained')


def eval_pipeline(cfg: Config, frame_interval: Optional[int] = None) -> List[dict]:
    """A deterministic version of the config's training pipeline (one clip)."""
    transforms = _flatten(find_train_pipeline(cfg))
    sampler = _first(transforms, 'SampleFrames', cfg.filename)
    masker = _first(transforms, 'VideoMAEMaskGenerator', cfg.filename)
    backbone = cfg.model.backbone
    crop = backbone.get('img_size', 224)
    crop = crop if isinstance(crop, int) else crop[0]
    return [
        dict(type='VideoMAEInit', backends=('decord', 'pyav')),
        dict(type='SampleFrames', clip_len=sampler['clip_len'],
             frame_interval=frame_interval or sampler.get('frame_interval', 1), num_clips=1,
             out_of_bound_opt=sampler.get('out_of_bound_opt', 'loop'), test_mode=True),
        dict(type='VideoMAEDecode'),
        dict(type='Resize', scale=(-1, crop)),
        dict(type='CenterCrop', crop_size=crop),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(masker),
        dict(type='PackVideoMAEInputs'),
    ]


def _token_map(mask: torch.Tensor, grid, tubelet: int, patch) -> np.ndarray:
    """Token mask ``(N,)`` -> pixel mask ``(T, H, W)``."""
    m = mask.reshape(grid)  # (T', H', W')
    m = m.repeat_interleave(tubelet, 0).repeat_interleave(patch[0], 1)
    return m.repeat_interleave(patch[1], 2).numpy()


def compose_figure(original: np.ndarray, recon: np.ndarray, enc_hidden: np.ndarray,
                   dec_dropped: np.ndarray, frames: List[int], cell: int = 160) -> np.ndarray:
    """Grid picture. Videos ``(T, H, W, 3)`` in [0, 1], masks ``(T, H, W)`` bool.

    Returns:
        np.ndarray: uint8 BGR image.
    """
    hidden = enc_hidden[..., None]
    masked = np.where(hidden, GREY, original)
    in_loss = enc_hidden & ~dec_dropped
    shown = np.where(in_loss[..., None], recon, masked)
    dec_map = np.where(in_loss, 1., np.where(enc_hidden, 0., GREY))
    dec_map = np.repeat(dec_map[..., None], 3, -1)
    rows = [('original', original), ('masked input', masked), ('reconstruction', shown),
            ('decoder mask', dec_map)]
    label_w, pad = 150, 4
    out_rows = []
    for name, video in rows:
        tiles = [cv2.resize(video[t], (cell, cell), interpolation=cv2.INTER_NEAREST)
                 for t in frames]
        row = np.concatenate([np.pad(t, ((pad, pad), (pad, pad), (0, 0)), constant_values=1.)
                              for t in tiles], 1)
        label = np.ones((row.shape[0], label_w, 3))
        cv2.putText(label, name, (6, row.shape[0] // 2 + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (0, 0, 0), 1, cv2.LINE_AA)
        out_rows.append(np.concatenate([label, row], 1))
    header = np.ones((24, out_rows[0].shape[1], 3))
    for i, t in enumerate(frames):
        cv2.putText(header, f'frame {t}', (label_w + i * (cell + 2 * pad) + 8, 17),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    image = np.concatenate([header] + out_rows, 0)
    return cv2.cvtColor((image * 255).round().astype(np.uint8), cv2.COLOR_RGB2BGR)


def visualize(cfg: Config, checkpoint: str, video: str, out: str, num_slices: int = 4,
              seed: int = 0, device: str = 'cpu') -> dict:
    """Reconstruct one clip of ``video`` and write the picture to ``out``.

    Returns:
        dict: ``loss`` (the training loss on this clip) and ``out``.
    """
    import mmvmae2  # noqa: F401  (registers the modules)
    from mmaction.registry import MODELS
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    if not osp.isfile(video):
        raise FileNotFoundError(f'video not found: {video}')
    model = MODELS.build(cfg.model)
    with checkpoint_loading():  # mmengine checkpoints under torch >= 2.6, nothing unsafe
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    model.to(device).eval()

    np.random.seed(seed)  # the mask generator draws with the global numpy RNG
    data = Compose(eval_pipeline(cfg))(dict(filename=video, start_index=0, modality='RGB'))
    batch = model.data_preprocessor(pseudo_collate([data]), False)
    with torch.no_grad():
        loss = model(batch['inputs'], batch['data_samples'], mode='loss')['loss'].item()
        sample = model(batch['inputs'], batch['data_samples'], mode='predict')[0]

    backbone = model.backbone
    to_thwc = lambda v: v[0].permute(1, 2, 3, 0).float().numpy()  # noqa: E731 (C,T,H,W)->(T,H,W,C)
    original, recon = to_thwc(sample.input_video), to_thwc(sample.pred_video)
    grid = backbone.token_grid(batch['inputs'].shape[-3:])
    # frames shown per token: the tubelet, or MAE-ST's predicted frames (pred_t_dim)
    per_token, patch = original.shape[0] // grid[0], backbone.patch_size
    enc_hidden = _token_map(sample.encoder_mask[0].cpu(), grid, per_token, patch)
    dec_dropped = _token_map(sample.decoder_mask[0].cpu(), grid, per_token, patch)
    frames = [s * per_token for s in range(min(num_slices, grid[0]))]
    image = compose_figure(original, recon, enc_hidden, dec_dropped, frames)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    if not cv2.imwrite(out, image):
        raise OSError(f'could not write {out}')
    return dict(loss=loss, out=out)


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    result = visualize(cfg, args.checkpoint, args.video, args.out, args.num_slices, args.seed,
                       args.device)
    print(f'loss on this clip: {result["loss"]:.4f}; picture written to {result["out"]}')


if __name__ == '__main__':
    main()
