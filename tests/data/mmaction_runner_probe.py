"""Test-only hook and runner for ``tests/test_mmaction_tools.py``, loaded by
configs through ``custom_imports`` (``tests/data`` on ``PYTHONPATH``).

``MMActionTestsRunnerProbeHook`` records which runner class trained or tested
(and its strategy, if any) in ``<work_dir>/runner_probe_<train|test>.json``
and in the log; ``MMActionTestsCustomRunner`` is a user's own runner.
"""
import json
import os.path as osp

from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmaction.registry import HOOKS, RUNNERS


def _describe(runner, stage: str) -> dict:
    strategy = getattr(runner, 'strategy', None)
    info = dict(stage=stage, runner=type(runner).__name__,
                mro=[cls.__name__ for cls in type(runner).__mro__],
                strategy=None if strategy is None else type(strategy).__name__, seed=runner.seed)
    if stage == 'train':  # (FlexibleRunner.iter builds the train loop if there is none)
        info['iter'] = runner.iter
    return info


@HOOKS.register_module()
class MMActionTestsRunnerProbeHook(Hook):
    """Write the runner's class after training and after testing."""

    def _record(self, runner, stage: str) -> None:
        info = _describe(runner, stage)
        runner.logger.info(f'runner probe: {json.dumps(info)}')
        with open(osp.join(runner.work_dir, f'runner_probe_{stage}.json'), 'w') as f:
            json.dump(info, f)

    def after_train(self, runner) -> None:
        self._record(runner, 'train')

    def after_test(self, runner) -> None:
        self._record(runner, 'test')


@RUNNERS.register_module()
class MMActionTestsCustomRunner(Runner):
    """A user's runner: MMEngine's, plus a line in the log when a config
    builds it."""

    @classmethod
    def from_cfg(cls, cfg) -> 'MMActionTestsCustomRunner':
        runner = super().from_cfg(cfg)
        runner.logger.info(f'{cls.__name__} built from the config')
        return runner
