"""Behaviour of ``VideoMAEDistiller``: the KL formula against numbers worked
out by hand, temperature and alpha, a frozen teacher kept in eval mode and
out of the checkpoint, strict teacher loading, and training that lowers the
KL."""
import copy
from pathlib import Path

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import get_state_dict

import mmvmae2  # noqa: F401
from mmvmae2.models.algorithms.distill import VideoMAEDistiller, distill_kl

# Hand-worked 3-class example. Student logits s = (1, 2, 3), teacher t = (3, 2, 1).
# At T = 1 both softmaxes share one normalizer Z = e + e^2 + e^3 = 30.192875, so
# log(p_t / p_s) = t - s = (2, 0, -2) and KL = 2 (p_t0 - p_t2)
# = 2 (e^3 - e) / Z = 2 (20.085537 - 2.718282) / 30.192875 = 1.1504208.
# At T = 2: logits (1.5, 1, .5) vs (.5, 1, 1.5), log ratio (1, 0, -1),
# KL = (e^1.5 - e^.5) / (e^1.5 + e + e^.5) = 2.832968 / 8.848692 = .3201567; x T^2 = 1.2806267.
# Student cross-entropy for label 0: -log(e / Z) = log(Z) - 1 = 2.4076060; for label 1:
# log(Z) - 2 = 1.4076060.
KL_T1 = 1.1504208
KL_T2_UNSCALED = 0.3201567
KL_T2 = 1.2806267
CE_LABEL0 = 2.4076060
CE_LABEL1 = 1.4076060
S_LOGITS = [1., 2., 3.]
T_LOGITS = [3., 2., 1.]

ROOT = Path(__file__).resolve().parents[1]
MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]


@pytest.fixture(scope='module', autouse=True)
def mmaction_scope():
    init_default_scope('mmaction')


def recognizer_cfg(num_frames=4, num_classes=3, embed_dims=48, mean=MEAN, blending=None):
    """A tiny Recognizer3D: 2-block ViT, 4 x 32 x 32 clips, patch 8."""
    return dict(
        type='Recognizer3D',
        backbone=dict(
            type='VideoMAEViT',
            arch=dict(embed_dims=embed_dims, num_layers=2, num_heads=3,
                      feedforward_channels=2 * embed_dims),
            img_size=32, patch_size=8, num_frames=num_frames, tubelet_size=2,
            with_fc_norm=True, out_type='avg'),
        cls_head=dict(type='TimeSformerHead', num_classes=num_classes, in_channels=embed_dims,
                      average_clips='prob'),
        data_preprocessor=dict(type='ActionDataPreprocessor', mean=mean, std=STD,
                               format_shape='NCTHW', blending=blending))


def save_teacher(path, cfg=None, head_bias=None, seed=1):
    """Build a teacher recognizer, optionally with a constant head (zero
    weight, ``head_bias``), save its state dict and return the model."""
    torch.manual_seed(seed)
    teacher = MODELS.build(cfg or recognizer_cfg())
    teacher.init_weights()
    if head_bias is not None:
        set_constant_head(teacher, head_bias)
    torch.save(teacher.state_dict(), path)
    return teacher


def set_constant_head(model, bias):
    with torch.no_grad():
        model.cls_head.fc_cls.weight.zero_()
        model.cls_head.fc_cls.bias.copy_(torch.tensor(bias))


def build_distiller(ckpt, student=None, teacher=None, seed=0, **kwargs):
    torch.manual_seed(seed)
    model = VideoMAEDistiller(student=student or recognizer_cfg(),
                              teacher_cfg=teacher or recognizer_cfg(),
                              teacher_checkpoint=str(ckpt), **kwargs)
    model.init_weights()
    return model


def make_batch(labels=(0, 1), seed=0, frames=4):
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for label in labels:
        inputs.append(torch.randint(0, 256, (1, 3, frames, 32, 32), generator=gen,
                                    dtype=torch.uint8))
        sample = ActionDataSample()
        sample.set_gt_label(label)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def params(model):
    return {k: v.detach().clone() for k, v in model.named_parameters()}


# ----------------------------------------------------------------- the formula
def test_kl_matches_hand_worked_values():
    s, t = torch.tensor([S_LOGITS]), torch.tensor([T_LOGITS])
    assert distill_kl(s, t, 1.).item() == pytest.approx(KL_T1, abs=1e-6)
    assert distill_kl(s, t, 2.).item() == pytest.approx(KL_T2, abs=1e-6)
    # T^2 scaling: the T = 2 value is the plain KL of the softened distributions times 4.
    assert distill_kl(s / 2, t / 2, 1.).item() == pytest.approx(KL_T2_UNSCALED, abs=1e-6)
    # Batch mean: a second sample on which teacher and student agree adds 0.
    s2, t2 = torch.tensor([S_LOGITS, [0., 5., -1.]]), torch.tensor([T_LOGITS, [0., 5., -1.]])
    assert distill_kl(s2, t2, 1.).item() == pytest.approx(KL_T1 / 2, abs=1e-6)
    # Same distributions: zero; the gradient reaches the student only.
    s3 = torch.tensor([S_LOGITS], requires_grad=True)
    t3 = torch.tensor([T_LOGITS], requires_grad=True)
    distill_kl(s3, t3, 1.).backward()
    assert t3.grad is None and s3.grad.abs().sum() > 0
    assert distill_kl(t, t.clone(), 3.).item() == pytest.approx(0, abs=1e-7)


def test_kl_rejects_bad_input():
    with pytest.raises(ValueError, match='num_classes'):
        distill_kl(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match='temperature'):
        distill_kl(torch.zeros(2, 3), torch.zeros(2, 3), 0.)


# ------------------------------------------------------ the loss of the model
@pytest.mark.parametrize('alpha,temperature,label,distill,gt', [
    (1., 1., 0, KL_T1, None),
    (1., 2., 0, KL_T2, None),
    (.25, 2., 0, .25 * KL_T2, .75 * CE_LABEL0),
    (0., 1., 0, 0., CE_LABEL0),
    # mixup-style soft label (.5, .5, 0): CE = (CE_LABEL0 + CE_LABEL1) / 2
    (.5, 1., [.5, .5, 0.], .5 * KL_T1, .5 * (CE_LABEL0 + CE_LABEL1) / 2),
])
def test_loss_with_fixed_logits(tmp_path, alpha, temperature, label, distill, gt):
    # Zero head weights make the logits the head biases, whatever the clip.
    save_teacher(tmp_path / 't.pth', head_bias=T_LOGITS)
    model = build_distiller(tmp_path / 't.pth', alpha=alpha, temperature=temperature)
    set_constant_head(model, S_LOGITS)
    batch = make_batch(labels=[label])
    if isinstance(label, list):
        batch['data_samples'][0].set_gt_label(torch.tensor(label))
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    assert losses['loss_distill'].item() == pytest.approx(distill, abs=1e-5)
    if gt is None:
        assert set(losses) == {'loss_distill'}
    else:
        assert losses['loss_cls'].item() == pytest.approx(gt, abs=1e-5)


def test_teacher_config_from_file_and_converted_checkpoint(tmp_path):
    teacher = save_teacher(tmp_path / 't.pth', head_bias=T_LOGITS)
    # An official fine-tuned layout (no backbone./cls_head. prefixes, 'head'),
    # inside {'module': ...} as DeepSpeed saves it, goes through the converter.
    official = {k.replace('backbone.', '').replace('cls_head.fc_cls', 'head'): v
                for k, v in teacher.state_dict().items()}
    torch.save({'module': official}, tmp_path / 'official.pth')
    (tmp_path / 'teacher_cfg.py').write_text(f'model = {recognizer_cfg()!r}\n')
    model = build_distiller(tmp_path / 'official.pth', teacher=str(tmp_path / 'teacher_cfg.py'))
    assert model.teacher_layout == 'official_finetune'
    for key, value in teacher.state_dict().items():
        assert torch.equal(model.teacher.state_dict()[key], value), key


# ------------------------------------------------------------ frozen teacher
def test_teacher_frozen_student_trained(tmp_path):
    save_teacher(tmp_path / 't.pth')
    model = build_distiller(tmp_path / 't.pth', alpha=.5, temperature=2.)
    assert model.teacher_layout == 'as saved'
    teacher_before, student_before = params(model.teacher), params(model)
    assert all(not p.requires_grad for p in model.teacher.parameters())
    teacher_ids = {id(p) for p in model.teacher.parameters()}
    assert not teacher_ids & {id(p) for p in model.parameters()}
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=.1))
    model.train()
    model.train_step(make_batch(), optim)
    assert all(p.grad is None for p in model.teacher.parameters())
    for key, value in params(model.teacher).items():
        assert torch.equal(value, teacher_before[key]), key
    changed = [k for k, v in params(model).items() if not torch.equal(v, student_before[k])]
    assert 'cls_head.fc_cls.weight' in changed and 'backbone.blocks.0.attn.qkv.weight' in changed


def test_teacher_stays_in_eval_mode(tmp_path):
    save_teacher(tmp_path / 't.pth')
    model = build_distiller(tmp_path / 't.pth')
    model.train()
    assert model.training and model.student.training and model.backbone.training
    assert not any(m.training for m in model.teacher.modules())
    model.teacher.train()  # even if someone switches it, the next loss resets it
    model(**model.data_preprocessor(make_batch(), True), mode='loss')
    assert not any(m.training for m in model.teacher.modules())
    model.eval()
    assert not model.student.training and not model.backbone.training


def test_teacher_follows_dtype_and_device_moves(tmp_path):
    save_teacher(tmp_path / 't.pth')
    model = build_distiller(tmp_path / 't.pth').to(torch.float64)
    assert model.teacher.cls_head.fc_cls.weight.dtype == torch.float64
    assert model.cls_head.fc_cls.weight.dtype == torch.float64


def test_teacher_gets_the_students_blended_inputs(tmp_path):
    mixup = dict(type='MixupBlending', alpha=.8, num_classes=3)
    save_teacher(tmp_path / 't.pth')
    model = build_distiller(tmp_path / 't.pth', student=recognizer_cfg(blending=mixup),
                            alpha=.5)
    seen = {}

    def keep_input(name):
        def hook(module, args, output):
            seen[name] = args[0].detach().clone()
        return hook

    model.backbone.register_forward_hook(keep_input('student'))
    model.teacher.backbone.register_forward_hook(keep_input('teacher'))
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=.1))
    log = model.train_step(make_batch(labels=(0, 2)), optim)
    assert torch.equal(seen['student'], seen['teacher'])
    assert torch.isfinite(log['loss_cls']) and torch.isfinite(log['loss_distill'])


# ------------------------------------------------------- the saved checkpoint
def test_state_dict_is_the_plain_recognizers(tmp_path):
    save_teacher(tmp_path / 't.pth')
    model = build_distiller(tmp_path / 't.pth')
    plain = MODELS.build(recognizer_cfg())
    assert list(model.state_dict()) == list(plain.state_dict())
    assert list(get_state_dict(model)) == list(plain.state_dict())  # mmengine's saver
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in plain.named_parameters()]
    plain.load_state_dict(model.state_dict(), strict=True)
    # load_from / resume of a plain checkpoint into the distiller also fits.
    model.load_state_dict(copy.deepcopy(plain.state_dict()), strict=True)
    # Prediction is the student's: equal to the plain recognizer's.
    model.eval()
    plain.eval()
    batch = make_batch(labels=(0, 1, 2))
    calls = []
    model.teacher.register_forward_hook(lambda *args: calls.append(1))
    ours = model.test_step(copy.deepcopy(batch))
    assert not calls  # the teacher does not run in prediction
    theirs = plain.test_step(copy.deepcopy(batch))
    for a, b in zip(ours, theirs):
        assert torch.allclose(a.pred_score, b.pred_score, atol=1e-6)


def test_layer_wise_lr_decay_sees_the_students_names(tmp_path):
    save_teacher(tmp_path / 't.pth')
    model = build_distiller(tmp_path / 't.pth')
    optim = build_optim_wrapper(model, dict(
        type='OptimWrapper', constructor='LearningRateDecayOptimizerConstructor',
        optimizer=dict(type='AdamW', lr=1.),
        paramwise_cfg=dict(decay_rate=.5, decay_type='layer_wise', num_layers=2)))
    scale = {name: group['lr'] for group in optim.optimizer.param_groups
             for name in group['param_names']}
    # MMAction2's ids: patch_embed 0, blocks.i i + 1, the rest 3; lr x .5 ** (2 - id + 1).
    assert scale['backbone.patch_embed.proj.weight'] == .125
    assert scale['backbone.blocks.0.attn.qkv.weight'] == .25
    assert scale['backbone.blocks.1.attn.qkv.weight'] == .5
    assert scale['cls_head.fc_cls.weight'] == 1.
    assert len(scale) == len(list(model.parameters()))


# ---------------------------------------------------------- bad teacher input
def test_wrong_teacher_checkpoint_fails_at_build(tmp_path):
    teacher = save_teacher(tmp_path / 't.pth')
    state = teacher.state_dict()
    missing = {k: v for k, v in state.items() if k != 'backbone.blocks.1.mlp.fc2.weight'}
    torch.save(missing, tmp_path / 'missing.pth')
    with pytest.raises(ValueError, match=r'missing keys .*backbone\.blocks\.1\.mlp\.fc2\.weight'):
        build_distiller(tmp_path / 'missing.pth')
    torch.save({**state, 'backbone.extra.weight': torch.zeros(1)}, tmp_path / 'extra.pth')
    with pytest.raises(ValueError, match=r'unexpected keys .*backbone\.extra\.weight'):
        build_distiller(tmp_path / 'extra.pth')
    save_teacher(tmp_path / 'wide.pth', cfg=recognizer_cfg(embed_dims=24))
    shape = r'backbone\.patch_embed\.proj\.weight \(24, 3, 2, 8, 8\) \(model \(48, 3, 2, 8, 8\)\)'
    with pytest.raises(ValueError, match=r'wide\.pth.*other shapes .*' + shape):
        build_distiller(tmp_path / 'wide.pth')


def test_incompatible_teacher_fails_at_build(tmp_path):
    save_teacher(tmp_path / 't8.pth', cfg=recognizer_cfg(num_frames=8))
    with pytest.raises(ValueError, match=r'teacher backbone expects \(8, 32, 32\).*\(4, 32, 32\)'):
        build_distiller(tmp_path / 't8.pth', teacher=recognizer_cfg(num_frames=8))
    save_teacher(tmp_path / 't5.pth', cfg=recognizer_cfg(num_classes=5))
    with pytest.raises(ValueError, match='student predicts 3 classes, teacher 5'):
        build_distiller(tmp_path / 't5.pth', teacher=recognizer_cfg(num_classes=5))
    save_teacher(tmp_path / 't.pth')
    with pytest.raises(ValueError, match='normalize differently'):
        build_distiller(tmp_path / 't.pth', teacher=recognizer_cfg(mean=[0., 0., 0.]))
    with pytest.raises(ValueError, match='alpha'):
        build_distiller(tmp_path / 't.pth', alpha=1.5)
    with pytest.raises(ValueError, match='teacher_checkpoint is required'):
        build_distiller('')
    with pytest.raises(FileNotFoundError, match='nope.py'):
        build_distiller(tmp_path / 't.pth', teacher=str(tmp_path / 'nope.py'))


def test_teacher_without_preprocessor_config_takes_the_students(tmp_path):
    save_teacher(tmp_path / 't.pth')
    bare = {k: v for k, v in recognizer_cfg().items() if k != 'data_preprocessor'}
    model = build_distiller(tmp_path / 't.pth', teacher=bare)
    losses = model(**model.data_preprocessor(make_batch(), True), mode='loss')
    assert losses['loss_distill'].item() > 0


def test_other_clip_in_batch_fails_clearly(tmp_path):
    save_teacher(tmp_path / 't.pth')
    model = build_distiller(tmp_path / 't.pth')
    data = model.data_preprocessor(make_batch(frames=8), True)
    with pytest.raises(ValueError, match=r'teacher expects \(4, 32, 32\).*\(8, 32, 32\)'):
        model(**data, mode='loss')


# ------------------------------------------------------------------- training
def test_train_steps_lower_the_kl(tmp_path):
    # A confident teacher (head weights N(0, 2)): the KL starts near 4, not near 0.
    torch.manual_seed(3)
    teacher = MODELS.build(recognizer_cfg())
    teacher.init_weights()
    with torch.no_grad():
        teacher.cls_head.fc_cls.weight.normal_(0, 2.)
    torch.save(teacher.state_dict(), tmp_path / 't.pth')
    model = build_distiller(tmp_path / 't.pth', temperature=2.)
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=3e-3))
    batch = make_batch(labels=(0, 1, 2, 0))
    model.train()
    kls = [model.train_step(copy.deepcopy(batch), optim)['loss_distill'].item()
           for _ in range(8)]
    assert kls[0] > 1 and all(b < a for a, b in zip(kls, kls[1:])), kls
    assert kls[-1] < .5 * kls[0], kls


# -------------------------------------------------------------------- configs
DISTILL_CONFIGS = sorted((ROOT / 'configs' / 'distillation').glob('*.py'))
TINY_BACKBONE = dict(arch=dict(embed_dims=48, num_layers=2, num_heads=3, feedforward_channels=96),
                     img_size=32, patch_size=8, num_frames=4, with_cp=False, init_cfg=None)


def shrink(recognizer):
    recognizer = copy.deepcopy(recognizer)
    recognizer['backbone'].update(TINY_BACKBONE)
    recognizer['cls_head']['in_channels'] = 48
    return recognizer


def test_distillation_configs_exist():
    names = {p.name for p in DISTILL_CONFIGS}
    assert {f'videomaev2_vit-giant-teacher_vit-{s}-student_{d}.py'
            for s in ('small', 'base') for d in ('k400', 'k710')} <= names


@pytest.mark.parametrize('path', DISTILL_CONFIGS, ids=lambda p: p.name)
def test_distillation_config_builds_and_steps(path, tmp_path):
    cfg = Config.fromfile(str(path))
    model_cfg = cfg.model
    assert model_cfg.type == 'VideoMAEDistiller'
    student, teacher_file = model_cfg.student, ROOT / model_cfg.teacher_cfg
    teacher = Config.fromfile(str(teacher_file)).model
    # Same label space and clip in the config as built; the student's mixup
    # labels have its class count.
    num_classes = student.cls_head.num_classes
    assert teacher.cls_head.num_classes == num_classes
    assert {a.num_classes for a in student.data_preprocessor.blending.augments} == {num_classes}
    assert (teacher.backbone.num_frames, teacher.backbone.img_size) == (
        student.backbone.num_frames, student.backbone.img_size)
    assert cfg.optim_wrapper.paramwise_cfg.num_layers == {'small': 12, 'base': 12}[
        student.backbone.arch]
    tiny_teacher = shrink(teacher)
    save_teacher(tmp_path / 't.pth', cfg=tiny_teacher)
    model = MODELS.build(dict(model_cfg, student=shrink(student), teacher_cfg=tiny_teacher,
                              teacher_checkpoint=str(tmp_path / 't.pth')))
    model.init_weights()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=.01))
    log = model.train_step(make_batch(labels=(0, num_classes - 1)), optim)
    assert torch.isfinite(log['loss'])
    model.eval()
    preds = model.test_step(make_batch(labels=(0, )))
    assert preds[0].pred_score.shape == (num_classes, )
