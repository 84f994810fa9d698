from .algorithms import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .pretrained import VideoMAEPretrained  # noqa: F401  (weight initializer)
