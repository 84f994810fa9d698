"""Test-only hook that kills a training run part-way, like a lost node."""
import os

from mmengine.hooks import Hook

from mmaction.registry import HOOKS


@HOOKS.register_module()
class InterruptTrainingHook(Hook):
    """Exit the process abruptly (no clean-up, no checkpoint) after global
    iteration ``at_iter`` (1-based)."""

    def __init__(self, at_iter: int) -> None:
        self.at_iter = at_iter

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if runner.iter + 1 == self.at_iter:
            print(f'InterruptTrainingHook: killing the run after iteration {self.at_iter}',
                  flush=True)
            os._exit(17)
