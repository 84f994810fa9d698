"""Mixed-precision optimizer wrapper that also runs on CPU and never lets a
non-finite step reach the weights."""
from contextlib import contextmanager
from typing import Dict, Optional, Union

import torch
import torch.nn as nn
from mmengine.dist import all_reduce
from mmengine.logging import MessageHub, MMLogger
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from mmaction.registry import OPTIM_WRAPPERS

DTYPES = {None: None, 'float16': torch.float16, 'bfloat16': torch.bfloat16}


def _as_dtype(dtype: Union[str, torch.dtype, None]) -> Optional[torch.dtype]:
    """``'float16'`` / ``'bfloat16'`` / ``None`` (or the torch dtypes) to a
    torch dtype; anything else raises ``ValueError``."""
    if isinstance(dtype, torch.dtype) and dtype in DTYPES.values():
        return dtype
    if isinstance(dtype, str) or dtype is None:
        if dtype in DTYPES:
            return DTYPES[dtype]
    raise ValueError(f'dtype must be one of {list(DTYPES)} (None: fp32 with the non-finite '
                     f'guard only), got {dtype!r}')


@OPTIM_WRAPPERS.register_module()
class VideoMAEAmpOptimWrapper(AmpOptimWrapper):
    """Autocast training in fp16 or bf16 on any device, with a guard against
    non-finite steps.

    Unlike MMEngine's :class:`AmpOptimWrapper` (whose interface and
    checkpoint format it keeps: ``loss_scaler`` in the state dict) it needs no
    GPU: the autocast device is the one the optimized parameters live on.

    - ``dtype='float16'``: dynamic loss scaling with ``torch.amp.GradScaler``
      (GPU only: CPU fp16 autocast is slow and unsupported by the scaler).
    - ``dtype='bfloat16'``: no loss scaling (bf16 has fp32's range).
    - ``dtype=None``: no autocast, plain fp32 with the guard.

    The guard: when the loss of any micro-batch of an update (see
    ``accumulative_counts``) or any gradient (after unscaling) is not finite
    in any process, the update is skipped (no optimizer step, no change of
    the optimizer state, gradients cleared; an fp16 skip also backs the loss
    scale off). Every skip is logged with the running count and the first
    skipped iteration, and the count goes to the message hub as
    ``train/skipped_steps`` (printed with the losses). After
    ``max_consecutive_skips`` skips in a row the run stops with a
    ``RuntimeError``.

    Args:
        dtype (str | torch.dtype, optional): ``'float16'``, ``'bfloat16'`` or
            None. Defaults to ``'bfloat16'``.
        loss_scale (str | float | dict): fp16 only: ``'dynamic'``, an initial
            scale, or ``GradScaler`` keyword arguments. Defaults to
            ``'dynamic'``.
        max_consecutive_skips (int, optional): Skips in a row that stop the
            run; None never stops. Defaults to 20.
        device_type (str, optional): Autocast device; None takes the device of
            the first parameter of the optimizer. Defaults to None.
        **kwargs: :class:`OptimWrapper` arguments (``optimizer``,
            ``accumulative_counts``, ``clip_grad``).
    """

    def __init__(self,
                 dtype: Union[str, torch.dtype, None] = 'bfloat16',
                 loss_scale: Union[str, float, Dict] = 'dynamic',
                 max_consecutive_skips: Optional[int] = 20,
                 device_type: Optional[str] = None,
                 **kwargs) -> None:
        # AmpOptimWrapper.__init__ asserts a GPU: initialize its base only.
        OptimWrapper.__init__(self, **kwargs)
        self.cast_dtype = _as_dtype(dtype)
        if device_type is None:
            params = [p for group in self.optimizer.param_groups for p in group['params']]
            device_type = params[0].device.type if params else 'cpu'
        self.device_type = device_type
        if max_consecutive_skips is not None and max_consecutive_skips < 1:
            raise ValueError(f'max_consecutive_skips must be >= 1 or None, '
                             f'got {max_consecutive_skips}')
        self.max_consecutive_skips = max_consecutive_skips
        self._scale_update_param = None
        self.loss_scaler = None
        if self.cast_dtype == torch.float16:
            if device_type == 'cpu':
                raise ValueError(
                    'dtype=float16 needs a GPU (fp16 autocast with loss scaling); the '
                    'parameters are on the CPU: use dtype=bfloat16 there (or None for fp32)')
            self.loss_scaler = self._build_scaler(loss_scale, device_type)
        self.skipped_steps = 0
        self.consecutive_skips = 0
        self.first_skipped_iter = None
        self._updates = 0
        self._loss_finite = None

    def _build_scaler(self, loss_scale, device_type: str) -> torch.amp.GradScaler:
        """``torch.amp.GradScaler`` from the ``loss_scale`` argument."""
        if loss_scale == 'dynamic':
            return torch.amp.GradScaler(device_type)
        if isinstance(loss_scale, float):
            self._scale_update_param = loss_scale  # a fixed scale
            return torch.amp.GradScaler(device_type, init_scale=loss_scale)
        if isinstance(loss_scale, dict):
            return torch.amp.GradScaler(device_type, **loss_scale)
        raise TypeError(f'loss_scale must be "dynamic", a float or a dict, got {loss_scale!r}')

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        """Back-propagate (the scaled loss for fp16) and remember whether the
        loss was finite (no device sync here: checked in :meth:`step`).

        Args:
            loss (torch.Tensor): The loss of the current micro-batch.
            kwargs: Keyword arguments of :meth:`torch.Tensor.backward`.
        """
        finite = torch.isfinite(loss.detach()).all()
        self._loss_finite = finite if self._loss_finite is None else self._loss_finite & finite
        (self.loss_scaler.scale(loss) if self.loss_scaler is not None else loss).backward(
            **kwargs)
        self._inner_count += 1

    def _grads_finite(self) -> torch.Tensor:
        """0-dim bool tensor: every gradient is finite (one reduction per
        gradient, no sync)."""
        grads = [p.grad for group in self.optimizer.param_groups for p in group['params']
                 if p.grad is not None]
        if not grads:
            return torch.ones((), dtype=torch.bool)
        return torch.stack([torch.isfinite(g).all().to(grads[0].device) for g in grads]).all()

    def step(self, **kwargs) -> None:
        """Update the parameters unless the loss or a gradient is not
        finite (see the class docstring).

        Args:
            kwargs: Keyword arguments of :meth:`torch.optim.Optimizer.step`.
        """
        if self.loss_scaler is not None:
            self.loss_scaler.unscale_(self.optimizer)  # records the scaler's own inf check
        finite = self._grads_finite()
        if self._loss_finite is not None:
            finite = finite & self._loss_finite.to(finite.device)
        self._loss_finite = None
        # Every process takes the same decision (one scalar all-reduce when distributed).
        bad = (~finite).float().reshape(1)
        all_reduce(bad)
        finite = bool(bad.item() == 0)
        if finite:
            if self.clip_grad_kwargs:
                self._clip_grad()
            if self.loss_scaler is not None:
                self.loss_scaler.step(self.optimizer, **kwargs)
            else:
                self.optimizer.step(**kwargs)
            self.consecutive_skips = 0
        else:
            self.optimizer.zero_grad()
        if self.loss_scaler is not None:
            self.loss_scaler.update(self._scale_update_param)  # backs off after an inf
        self._updates += 1
        if not finite:
            self._record_skip()
        MessageHub.get_current_instance().update_scalar('train/skipped_steps',
                                                        self.skipped_steps)

    def _record_skip(self) -> None:
        """Count, log and, after too many in a row, stop."""
        info = MessageHub.get_current_instance().get_info('iter')
        iteration = info if info is not None else self._updates - 1
        self.skipped_steps += 1
        self.consecutive_skips += 1
        if self.first_skipped_iter is None:
            self.first_skipped_iter = iteration
        scale = f', loss scale now {self.loss_scaler.get_scale():g}' if self.loss_scaler else ''
        MMLogger.get_current_instance().warning(
            f'Skipped the update at iteration {iteration}: non-finite loss or gradients '
            f'(skipped steps: {self.skipped_steps}, first at iteration '
            f'{self.first_skipped_iter}, {self.consecutive_skips} in a row{scale})')
        if (self.max_consecutive_skips is not None
                and self.consecutive_skips >= self.max_consecutive_skips):
            raise RuntimeError(
                f'{self.consecutive_skips} consecutive updates had a non-finite loss or '
                f'gradients (the last at iteration {iteration}, {self.skipped_steps} skipped in '
                f'all, the first at iteration {self.first_skipped_iter}): training diverged. '
                f'Check the learning rate and warm-up, the loss scale / autocast dtype '
                f'({self.cast_dtype}{scale}), gradient clipping, and the data (NaN/Inf or '
                f'constant clips)')

    def state_dict(self) -> dict:
        """The optimizer's state dict, plus ``loss_scaler`` with fp16."""
        state_dict = OptimWrapper.state_dict(self)
        if self.loss_scaler is not None:
            state_dict['loss_scaler'] = self.loss_scaler.state_dict()
        return state_dict

    def load_state_dict(self, state_dict: dict) -> None:
        """Load :meth:`state_dict`; a ``loss_scaler`` entry is used with fp16
        and ignored otherwise.

        Args:
            state_dict (dict): From :meth:`state_dict` (or MMEngine's
                :class:`AmpOptimWrapper`).
        """
        state_dict = dict(state_dict)
        scaler_state = state_dict.pop('loss_scaler', None)
        if scaler_state is not None and self.loss_scaler is not None:
            self.loss_scaler.load_state_dict(scaler_state)
        OptimWrapper.load_state_dict(self, state_dict)

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Autocast to ``dtype`` (none when None) inside MMEngine's context
        that skips gradient sync during accumulation.

        Args:
            model (nn.Module): The trained model.
        """
        with OptimWrapper.optim_context(self, model), torch.autocast(
                device_type=self.device_type, dtype=self.cast_dtype,
                enabled=self.cast_dtype is not None):
            yield
