# MMAction2's shipped ST-GCN config, read from the installed package, run by a
# user's own runner registered through custom_imports (tests/test_mmaction_tools.py).
_base_ = 'mmaction::skeleton/stgcn/stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-2d.py'

runner_type = 'MMActionTestsCustomRunner'
custom_imports = dict(imports=['mmaction_runner_probe'], allow_failed_imports=False)
custom_hooks = [dict(type='MMActionTestsRunnerProbeHook')]
