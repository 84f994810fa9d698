"""Every config under ``configs/`` trains one step and tests one step.

Each config is built as it is, with the backbone shrunk to a tiny ViT (2
blocks of 48 channels, 32 x 32 clips of 4 frames, 8 x 8 patches) and no
starting checkpoint; everything else keeps the recipe's structure: the data
preprocessor (normalization, mixup / cutmix for recognition), the optimizer
constructor and parameter-wise settings (layer-wise lr decay for
recognition), gradient clipping, the head and its loss. The optim wrapper is
the config's with plain fp32 steps (``OptimWrapper``: AMP needs a GPU).

Inputs have the shapes the config's pipelines give: pretraining gets
``num_repeats`` clips per video with the masks of the config's
``VideoMAEMaskGenerator`` (packed by ``PackVideoMAEInputs``); recognition gets
the clips as the repeated-clip collate hands them to the model (one sample
per clip, the video's label) and ``test clips x crops`` views per video for
``test_step``. New configs are found by glob.
"""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

import mmvmae2  # noqa: F401
from mmaction.registry import MODELS, TRANSFORMS
from mmaction.structures import ActionDataSample

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p for p in (ROOT / 'configs').rglob('*.py') if '_base_' not in p.parts)
TINY_ARCH = dict(embed_dims=48, num_layers=2, num_heads=3, feedforward_channels=96)
TINY = dict(img_size=32, num_frames=4, patch_size=8)
VIDEOS = 2  # videos per training batch


@pytest.fixture(scope='module', autouse=True)
def mmaction_scope():
    init_default_scope('mmaction')


def find(pipeline, type_):
    return next(t for t in pipeline if t['type'] == type_)


def fp32_optim_wrapper(cfg: Config, model):
    """The config's optim wrapper with plain fp32 steps, built by mmengine."""
    optim = cfg.optim_wrapper.copy()
    optim['type'] = 'OptimWrapper'
    optim.pop('loss_scale', None)
    optim.pop('accumulative_counts', None)  # one train_step is one update
    if 'paramwise_cfg' in optim and 'num_layers' in optim['paramwise_cfg']:
        optim['paramwise_cfg'] = dict(optim['paramwise_cfg'], num_layers=TINY_ARCH['num_layers'])
    return build_optim_wrapper(model, optim)


def shrink_model(model: dict) -> None:
    """Tiny backbone, no starting checkpoint, the rest as configured."""
    num_frames = model['backbone'].get('num_frames', 16)
    model['backbone'].update(arch=dict(TINY_ARCH), init_cfg=None, **TINY)
    if model['type'] == 'VideoMAEPretrainer':
        model['neck']['arch'] = dict(embed_dims=32, num_heads=2, num_layers=1)
        if model['head'].get('target_frames'):  # MAE-ST's pred_t_dim, same fraction of frames
            model['head']['target_frames'] = \
                model['head']['target_frames'] * TINY['num_frames'] // num_frames
    else:
        head = model['cls_head']
        head['in_channels'] = TINY_ARCH['embed_dims']
        if (head.get('init_cfg') or {}).get('type') == 'VideoMAEPretrained':  # no checkpoint
            head['init_cfg'] = dict(type='TruncNormal', layer='Linear', std=0.02)


def shrink(cfg: Config, tmp_path: Path) -> dict:
    """The config's model, shrunk. A distiller's teacher becomes a tiny
    recognizer of the student's class count, saved to ``tmp_path``."""
    if cfg.model.type != 'VideoMAEDistiller':
        shrink_model(cfg.model)
        return cfg.model
    student = cfg.model.student
    shrink_model(student)
    teacher = dict(student, data_preprocessor=dict(type='ActionDataPreprocessor'))
    checkpoint = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=MODELS.build(teacher).state_dict()), checkpoint)
    return dict(cfg.model, teacher_cfg=teacher, teacher_checkpoint=str(checkpoint))


def snapshot(model) -> dict:
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def assert_trained(model, before: dict, losses: dict) -> None:
    assert all(torch.isfinite(v).all() for k, v in losses.items() if 'loss' in k), losses
    changed = [n for n, p in model.named_parameters() if n in before
               and not torch.equal(p.detach(), before[n])]
    # Every block, the embedding and the output layer moved.
    for name in ('backbone.patch_embed', 'backbone.blocks.0.', 'backbone.blocks.1.', 'cls_head.',
                 'neck.'):
        if not any(n.startswith(name) for n in before):
            continue
        assert any(n.startswith(name) for n in changed), (name, changed)


def pretrain_batch(cfg: Config) -> dict:
    """Clips and masks as the config's pipeline packs them, for VIDEOS videos."""
    pipeline = cfg.train_dataloader.dataset.pipeline
    repeats = find(pipeline, 'VideoMAERepeatedAugment')['num_repeats']
    masker = TRANSFORMS.build(dict(find(pipeline, 'VideoMAEMaskGenerator'),
                                   patch_size=TINY['patch_size']))
    packer = TRANSFORMS.build(find(pipeline, 'PackVideoMAEInputs'))
    rng = np.random.RandomState(0)
    samples = []
    for _ in range(VIDEOS):
        shape = (repeats, 3, TINY['num_frames'], TINY['img_size'], TINY['img_size'])
        results = dict(imgs=rng.randint(0, 256, shape).astype(np.uint8))
        samples.append(packer(masker(results)))
    return pseudo_collate(samples)


def recognition_batch(cfg: Config, num_classes: int) -> dict:
    """The collated training batch: one sample per clip, clips of a video
    next to each other with the video's label."""
    repeats = cfg.train_dataloader.get('collate_fn', {}).get('num_repeats', 1)
    gen = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for video in range(VIDEOS):
        label = (7 * video + 3) % num_classes
        for _ in range(repeats):
            shape = (1, 3, TINY['num_frames'], TINY['img_size'], TINY['img_size'])
            inputs.append(torch.randint(0, 256, shape, generator=gen, dtype=torch.uint8))
            samples.append(ActionDataSample().set_gt_label(label))
    return dict(inputs=inputs, data_samples=samples)


def views_per_video(cfg: Config) -> int:
    """Clips x crops of one test video in the config's test pipeline."""
    pipeline = cfg.test_dataloader.dataset.pipeline
    sampler = next(t for t in pipeline if t['type'] in ('SampleFrames', 'UniformSample'))
    crops = 3 if any(t['type'] == 'ThreeCrop' for t in pipeline) else 1
    return sampler['num_clips'] * crops


def test_found_every_config():
    kinds = {p.parent.name for p in CONFIGS}
    assert {'pretrain', 'videomaev2'} <= kinds and len(CONFIGS) >= 40


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: str(p.relative_to(ROOT / 'configs')))
def test_config_trains_and_tests_one_step(path, tmp_path):
    cfg = Config.fromfile(str(path))
    torch.manual_seed(0)
    if cfg.model.type == 'FastRCNN':
        detector_trains_and_tests_one_step(cfg)
        return
    model_cfg = shrink(cfg, tmp_path)
    model = MODELS.build(model_cfg)
    model.init_weights()
    optim_wrapper = fp32_optim_wrapper(cfg, model)
    before = snapshot(model)

    if cfg.model.type == 'VideoMAEPretrainer':
        batch = pretrain_batch(cfg)
        losses = model.train_step(batch, optim_wrapper)
        assert_trained(model, before, losses)
        model.eval()
        with torch.no_grad():
            out = model.test_step(batch)
        assert len(out) == VIDEOS
        return

    recognizer = model_cfg.get('student', model_cfg)
    num_classes = recognizer['cls_head']['num_classes']
    blending = recognizer['data_preprocessor'].get('blending')
    if blending is not None:  # mixup / cutmix on, for the head's classes
        assert {a['num_classes'] for a in blending['augments']} == {num_classes}
    model.train()
    losses = model.train_step(recognition_batch(cfg, num_classes), optim_wrapper)
    assert_trained(model, before, losses)

    views = views_per_video(cfg)
    gen = torch.Generator().manual_seed(1)
    shape = (views, 3, TINY['num_frames'], TINY['img_size'], TINY['img_size'])
    batch = dict(inputs=[torch.randint(0, 256, shape, generator=gen, dtype=torch.uint8)],
                 data_samples=[ActionDataSample().set_gt_label(0)])
    model.eval()
    with torch.no_grad():
        (pred, ) = model.test_step(batch)
    scores = pred.pred_score
    assert scores.shape == (num_classes, ) and torch.isfinite(scores).all()
    # average_clips='prob': the mean of the views' softmax sums to 1.
    assert float(scores.sum()) == pytest.approx(1., abs=1e-5)


# ---------------------------------------------------------------------------
# Detection configs (MMDetection's FastRCNN with MMAction2's AVA RoI head):
# the backbone shrunk as above, the bbox head's input width with it; clips of
# a non-square 32 x 48 frame size (the ViT resizes its position table), two
# ground-truth persons per clip with multi-hot actions, the dataset's person
# proposals in training and testing (one clip per test batch, as
# AVARoIHead requires).
# ---------------------------------------------------------------------------
DET_SIZE = (32, 48)  # height, width


def detection_sample(num_classes: int, gen: torch.Generator):
    from mmengine.structures import InstanceData
    h, w = DET_SIZE
    boxes = torch.tensor([[2., 4., 20., 30.], [24., 2., 46., 28.]])
    labels = torch.zeros(2, num_classes)
    labels[0, 1] = labels[1, num_classes - 1] = 1.
    sample = ActionDataSample()
    sample.set_metainfo(dict(img_shape=(h, w), crop_quadruple=np.array([0., 0., 1., 1.])))
    sample.gt_instances = InstanceData(bboxes=boxes, labels=labels)
    sample.proposals = InstanceData(bboxes=boxes + 1.)
    shape = (3, TINY['num_frames'], h, w)
    return torch.randint(0, 256, shape, generator=gen, dtype=torch.uint8), sample


def detector_trains_and_tests_one_step(cfg: Config) -> None:
    model_cfg = cfg.model
    model_cfg.backbone.update(arch=dict(TINY_ARCH), init_cfg=None, **TINY)
    model_cfg.init_cfg = None
    head = model_cfg.roi_head.bbox_head
    head.in_channels = TINY_ARCH['embed_dims']
    num_classes = head.num_classes
    model = MODELS.build(model_cfg)
    model.init_weights()
    optim_wrapper = fp32_optim_wrapper(cfg, model)
    before = snapshot(model)
    gen = torch.Generator().manual_seed(0)
    inputs, samples = zip(*(detection_sample(num_classes, gen) for _ in range(VIDEOS)))
    model.train()
    losses = model.train_step(dict(inputs=list(inputs), data_samples=list(samples)),
                              optim_wrapper)
    assert_trained(model, before, losses)
    assert any(not torch.equal(p.detach(), before[n]) for n, p in model.named_parameters()
               if n.startswith('roi_head.bbox_head.'))
    model.eval()
    inputs, sample = detection_sample(num_classes, gen)
    with torch.no_grad():
        (pred, ) = model.test_step(dict(inputs=[inputs], data_samples=[sample]))
    scores = pred.pred_instances.scores
    assert scores.shape == (2, num_classes) and ((scores >= 0) & (scores <= 1)).all()
    # boxes come back normalized to the frame: the proposals / (w, h)
    h, w = DET_SIZE
    expected = sample.proposals.bboxes / torch.tensor([w, h, w, h])
    torch.testing.assert_close(pred.pred_instances.bboxes, expected)
