"""Logit distillation of a frozen teacher recognizer into a student recognizer.

VideoMAE V2 distils its post-pretrained ViT-g into ViT-S/B students by their
logits; no official code was released, so the loss follows the common
(Hinton et al., mmrazor ``KLDivergence``) form::

    loss = alpha * T^2 * KL(softmax(z_t / T) || softmax(z_s / T))
           + (1 - alpha) * the student head's own ground-truth loss

with the KL summed over classes and averaged over the batch (``batchmean``;
DeiT's soft distillation instead divides by batch x classes).

Inputs: the teacher sees exactly the student's inputs (after the student's
data preprocessor, mixup/cutmix included). There is no per-model adaptation:
teacher and student must take the same clip (frames, height, width) and the
same normalization (when the teacher's config declares one; its data
preprocessor never runs). A mismatch fails when the model is built, and a
batch whose clips differ from the teacher backbone's ``num_frames`` x
``img_size`` fails at the first step (backbones that declare no clip size
are not checked).

Checkpoint: the teacher is kept out of the module tree (held in a plain
tuple), and the student's sub-modules (``data_preprocessor``, ``backbone``,
``neck``, ``cls_head``) are the distiller's own children. ``state_dict()``,
mmengine's checkpoint saving, ``parameters()`` (the optimizer, DDP) and
parameter names (``backbone.blocks.N`` for MMAction2's layer-wise lr decay)
are therefore exactly those of the plain student recognizer: its checkpoint
loads into the plain recognizer config with no missing or unexpected keys,
and the teacher is never saved, optimized or switched to train mode.
"""
import os
from collections.abc import Mapping
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.model import BaseModel
from torch import nn

from ...compat import load_checkpoint_file
from ..checkpoint_convert import convert_state_dict, strip_wrapper_prefixes, unwrap_checkpoint

__all__ = ['VideoMAEDistiller', 'distill_kl', 'load_teacher_weights', 'teacher_model_cfg']

SampleList = List


def distill_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
               temperature: float = 1.) -> torch.Tensor:
    """Temperature-scaled KL divergence of the student from the teacher.

    ``T^2 * mean_b sum_k p_t[b, k] * (log p_t[b, k] - log p_s[b, k])`` with
    ``p = softmax(logits / T)``, computed in float32. The ``T^2`` factor keeps
    the gradient scale independent of ``T`` (Hinton et al.).

    Args:
        student_logits (torch.Tensor): ``(B, K)`` student class scores.
        teacher_logits (torch.Tensor): ``(B, K)`` teacher class scores (no
            gradient flows into them).
        temperature (float): Softmax temperature ``T > 0``. Defaults to 1.

    Returns:
        torch.Tensor: Scalar loss.
    """
    if student_logits.dim() != 2 or student_logits.shape != teacher_logits.shape:
        raise ValueError(f'student and teacher logits must both be (B, num_classes), got '
                         f'{tuple(student_logits.shape)} and {tuple(teacher_logits.shape)}')
    if temperature <= 0:
        raise ValueError(f'temperature must be > 0, got {temperature}')
    log_p_s = F.log_softmax(student_logits.float() / temperature, dim=-1)  # (B, K)
    log_p_t = F.log_softmax(teacher_logits.detach().float() / temperature, dim=-1)  # (B, K)
    kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=-1)  # (B, )
    return kl.mean() * temperature**2


def teacher_model_cfg(teacher_cfg: Union[str, os.PathLike, Mapping]) -> Dict:
    """The teacher's model config from a config file or a dict.

    Args:
        teacher_cfg (str | PathLike | dict): A config file (its ``model`` is
            taken), a full config dict with a ``model`` entry, or a model
            config (with ``type``).

    Returns:
        dict: The model config.
    """
    if isinstance(teacher_cfg, (str, os.PathLike)):
        if not os.path.isfile(teacher_cfg):
            raise FileNotFoundError(f'teacher_cfg {os.fspath(teacher_cfg)!r} is not a file')
        cfg = Config.fromfile(teacher_cfg)
        if 'model' not in cfg:
            raise ValueError(f'teacher_cfg {os.fspath(teacher_cfg)!r} has no "model" entry')
        return dict(cfg.model)
    if isinstance(teacher_cfg, Mapping):
        if 'type' in teacher_cfg:
            return dict(teacher_cfg)
        if isinstance(teacher_cfg.get('model'), Mapping):
            return dict(teacher_cfg['model'])
    raise TypeError(f'teacher_cfg must be a config file path, a model config with "type" or a '
                    f'config with "model", got {type(teacher_cfg).__name__}: '
                    f'{str(teacher_cfg)[:200]}')


def load_teacher_weights(teacher: nn.Module, checkpoint: Union[str, os.PathLike]) -> str:
    """Load every weight of ``teacher`` from ``checkpoint``, strictly.

    The file is read with mmvmae2's restricted loader. A state dict whose keys
    are the teacher's (a checkpoint of the teacher config, any recognizer)
    loads as saved; any other is converted to mmvmae2's layout first (an
    official, MMAction2 or HF VideoMAE checkpoint).

    Args:
        teacher (nn.Module): The built teacher recognizer.
        checkpoint (str | PathLike): The teacher's checkpoint file.

    Returns:
        str: The detected source layout.

    Raises:
        ValueError: Keys the teacher needs are missing, keys it does not have
            are present, or a tensor has another shape (the message names
            the keys and the file).
    """
    name = os.fspath(checkpoint)
    content = load_checkpoint_file(name, map_location='cpu')
    own = teacher.state_dict()
    state = strip_wrapper_prefixes(unwrap_checkpoint(content))
    if set(state) == set(own):  # saved from this very model (e.g. MMAction2's own ViT)
        layout = 'as saved'
    else:
        state, layout = convert_state_dict(content)
    problems = [
        f'{label} {_key_list(keys)}' for label, keys in (
            ('missing keys', [k for k in own if k not in state]),
            ('unexpected keys', [k for k in state if k not in own]),
            # a learnable pos_embed of another grid is resized by the backbone
            ('other shapes', [f'{k} {tuple(v.shape)} (model {tuple(own[k].shape)})'
                              for k, v in state.items() if k in own and not
                              k.endswith('pos_embed') and v.shape != own[k].shape]),
        ) if keys
    ]
    if problems:
        raise ValueError(f'teacher checkpoint {name!r} ({layout} layout) does not fit the '
                         f'teacher model: {"; ".join(problems)}')
    teacher.load_state_dict(state, strict=True)
    return layout


def _key_list(keys: List[str], limit: int = 8) -> str:
    more = f' ... and {len(keys) - limit} more' if len(keys) > limit else ''
    return f'{keys[:limit]}{more}'


def _clip_size(recognizer: nn.Module) -> Optional[Tuple[int, ...]]:
    """``(T, H, W)`` the backbone declares (``num_frames``, ``img_size``),
    or None when it declares no clip size."""
    backbone = getattr(recognizer, 'backbone', None)
    frames, size = getattr(backbone, 'num_frames', None), getattr(backbone, 'img_size', None)
    if not isinstance(frames, int) or size is None:
        return None
    size = (size, size) if isinstance(size, int) else tuple(size)
    return (frames, *size)


def _check_compatible(student: nn.Module, teacher: nn.Module) -> None:
    """Fail early when the teacher cannot take the student's inputs or
    predicts another label space."""
    for name, model in (('student', student), ('teacher', teacher)):
        if not (hasattr(model, 'extract_feat') and getattr(model, 'cls_head', None)):
            raise TypeError(f'the {name} must be a recognizer with a cls_head (e.g. '
                            f'Recognizer3D), got {type(model).__name__}')
    n_s, n_t = student.cls_head.num_classes, teacher.cls_head.num_classes
    if n_s != n_t:
        raise ValueError(f'student predicts {n_s} classes, teacher {n_t}: logit distillation '
                         f'needs one label space')
    clip_s, clip_t = _clip_size(student), _clip_size(teacher)
    if clip_s is not None and clip_t is not None and clip_s != clip_t:
        raise ValueError(f'the teacher backbone expects {clip_t} (frames, height, width) clips, '
                         f'the student {clip_s}; the teacher sees the student\'s inputs, so set '
                         f'the same num_frames and img_size in both backbones')
    # The teacher's preprocessor never runs; a normalization it declares
    # must be the one the student's preprocessor gives its inputs.
    dp_s, dp_t = student.data_preprocessor, teacher.data_preprocessor
    if getattr(dp_t, 'mean', None) is None:
        return
    for attr in ('mean', 'std', 'format_shape'):
        a, b = getattr(dp_s, attr, None), getattr(dp_t, attr, None)
        if not (torch.equal(a, b) if torch.is_tensor(a) and torch.is_tensor(b) else a == b):
            show = [x.flatten().tolist() if torch.is_tensor(x) else x for x in (a, b)]
            raise ValueError(f'student and teacher data preprocessors normalize differently '
                             f'({attr}: {show[0]} vs {show[1]}); the teacher sees the '
                             f'student\'s preprocessed inputs, so give both the same '
                             f'mean, std and format_shape')


def recognizer_logits(recognizer: nn.Module, inputs: torch.Tensor,
                      data_samples: Optional[SampleList] = None
                      ) -> Tuple[torch.Tensor, Dict]:
    """Class scores of a recognizer on training inputs, as its ``loss``
    computes them (backbone -> neck -> ``cls_head`` forward).

    Returns:
        tuple: ``(B', K)`` logits and the recognizer's loss kwargs (holding
        ``loss_aux`` of a neck).
    """
    feats, kwargs = recognizer.extract_feat(inputs, data_samples=data_samples)
    return recognizer.cls_head(feats, **kwargs), kwargs


def _scaled(losses: Dict, weight: float) -> Dict:
    """``losses`` with every entry whose name holds ``loss`` times
    ``weight`` (accuracies and other logged values unchanged)."""
    return {k: v * weight if 'loss' in k else v for k, v in losses.items()}


@MODELS.register_module()
class VideoMAEDistiller(BaseModel):
    """Logit distillation of a frozen teacher recognizer into a student.

    Training loss: ``loss_distill = alpha * distill_kl(student, teacher, T)``
    plus, when ``alpha < 1``, the student head's ground-truth losses (its
    ``loss_by_feat``: hard or mixup/cutmix soft labels, label smoothing)
    times ``1 - alpha``. The teacher runs in eval mode under ``no_grad`` on the
    same (preprocessed, blended) inputs. ``predict`` / ``tensor`` modes,
    hence validation and testing, use the student only.

    The distiller's modules, parameter names and ``state_dict`` are the plain
    student recognizer's (the teacher is held outside the module tree; see the
    module docstring): ``load_from`` a plain recognizer checkpoint works, and
    a distiller checkpoint loads into the student's plain config.

    Args:
        student (dict): Config of the student recognizer (any MMAction2
            recognizer, e.g. ``Recognizer3D`` with its own
            ``data_preprocessor``, which the distiller uses).
        teacher_cfg (str | dict): The teacher's config file (its ``model``)
            or model config.
        teacher_checkpoint (str): The teacher's weights, loaded strictly
            (any layout ``mmvmae2.models.checkpoint_convert`` knows, or an
            mmengine checkpoint of the teacher config).
        temperature (float): Softmax temperature ``T``. Defaults to 1.
        alpha (float): Weight of the distillation term in [0, 1]; 1 is pure
            distillation (no labels needed), 0 the student's own loss.
            Defaults to 1.
        init_cfg (dict, optional): Unused; the student initializes itself
            from its own config. Defaults to None.
    """

    def __init__(self,
                 student: Dict,
                 teacher_cfg: Union[str, Dict],
                 teacher_checkpoint: str,
                 temperature: float = 1.,
                 alpha: float = 1.,
                 init_cfg: Optional[Dict] = None) -> None:
        if not temperature > 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        if not 0 <= alpha <= 1:
            raise ValueError(f'alpha must be in [0, 1], got {alpha}')
        if not teacher_checkpoint:
            raise ValueError('teacher_checkpoint is required: a distillation teacher needs '
                             'its trained weights')
        super().__init__(init_cfg=init_cfg)
        self.temperature = float(temperature)
        self.alpha = float(alpha)
        student_model = MODELS.build(student)
        teacher = MODELS.build(teacher_model_cfg(teacher_cfg))
        _check_compatible(student_model, teacher)
        self.teacher_layout = load_teacher_weights(teacher, teacher_checkpoint)
        teacher.requires_grad_(False)
        teacher.eval()
        if list(student_model.parameters(recurse=False)) or list(
                student_model.buffers(recurse=False)):
            raise TypeError(f'{type(student_model).__name__} holds tensors outside its '
                            f'sub-modules; the distiller cannot share them')
        # The student's sub-modules become the distiller's (same objects):
        # same names in parameters() and state_dict() as the plain student.
        for name, module in student_model.named_children():
            self.add_module(name, module)
        # Plain tuples are not registered as sub-modules: neither model is
        # saved, optimized or wrapped through these references.
        self._models = (student_model, teacher)

    @property
    def student(self) -> nn.Module:
        """The student recognizer (its sub-modules are this model's)."""
        return self._models[0]

    @property
    def teacher(self) -> nn.Module:
        """The frozen teacher recognizer (not a sub-module)."""
        return self._models[1]

    def init_weights(self) -> None:
        """Initialize the student as its own recognizer would; the teacher
        keeps its loaded weights."""
        self.student.init_weights()
        self._is_init = True

    def train(self, mode: bool = True) -> 'VideoMAEDistiller':
        """Set the student's mode; the teacher stays in eval mode."""
        super().train(mode)
        self.student.train(mode)
        self.teacher.eval()
        return self

    def _apply(self, fn, *args, **kwargs):
        # Device and dtype moves (``.to``, ``.cuda``) reach the teacher too.
        super()._apply(fn, *args, **kwargs)
        self.teacher._apply(fn, *args, **kwargs)
        return self

    def _check_clip(self, inputs: torch.Tensor) -> None:
        expected = _clip_size(self.teacher)
        if expected is not None and tuple(inputs.shape[-3:]) != expected:
            raise ValueError(f'the teacher expects {expected} (frames, height, width) clips, '
                             f'the batch holds {tuple(inputs.shape[-3:])}; the distiller feeds '
                             f'the student\'s inputs to the teacher unchanged')

    def loss(self, inputs: torch.Tensor, data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """Distillation (and ground-truth) losses of a batch.

        Args:
            inputs (torch.Tensor): ``(B, V, C, T, H, W)`` preprocessed clips.
            data_samples (list[ActionDataSample]): With ``gt_label`` (an index
                or a soft ``(K, )`` label) when ``alpha < 1``.

        Returns:
            dict: ``loss_distill``, and the student head's weighted losses
            (``loss_cls``, top-k accuracies) when ``alpha < 1``, plus a neck's
            auxiliary losses.
        """
        self._check_clip(inputs)
        self.teacher.eval()
        with torch.no_grad():
            teacher_logits, _ = recognizer_logits(self.teacher, inputs, data_samples)
        student_logits, kwargs = recognizer_logits(self.student, inputs, data_samples)
        losses = dict(
            loss_distill=self.alpha * distill_kl(student_logits, teacher_logits,
                                                 self.temperature))
        if self.alpha < 1:
            gt_losses = self.student.cls_head.loss_by_feat(student_logits, data_samples)
            losses.update(_scaled(gt_losses, 1 - self.alpha))
        losses.update(kwargs.get('loss_aux') or {})
        return losses

    def predict(self, inputs: torch.Tensor, data_samples: SampleList, **kwargs) -> SampleList:
        """The student's predictions (multi-view averaging as its head
        does)."""
        return self.student.predict(inputs, data_samples, **kwargs)

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[SampleList] = None,
                mode: str = 'tensor',
                **kwargs):
        """``'loss'``: :meth:`loss`; ``'predict'`` and ``'tensor'``: the
        student's."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples, **kwargs)
        if mode == 'tensor':
            return self.student._forward(inputs, **kwargs)
        raise RuntimeError(f'invalid mode "{mode}"; only "tensor", "predict" and "loss" are '
                           f'supported')
