"""The one place that patches third-party import problems. Call `import_basicsr()` instead of `import basicsr`.

basicsr 1.4.2 (latest release) imports `torchvision.transforms.functional_tensor`, which torchvision
removed in 0.17; upstream fixed this after the release. The module's only use in basicsr
(`rgb_to_grayscale` in basicsr/data/degradations.py) is also in `torchvision.transforms.functional`,
so aliasing the old name to the new module before basicsr is imported is sufficient.
"""

from __future__ import annotations

import sys
from types import ModuleType


def import_basicsr() -> ModuleType:
    """Import basicsr with the torchvision alias in place; returns the basicsr module."""
    if "torchvision.transforms.functional_tensor" not in sys.modules:
        import torchvision.transforms.functional as tvf

        sys.modules["torchvision.transforms.functional_tensor"] = tvf
    import basicsr

    return basicsr
