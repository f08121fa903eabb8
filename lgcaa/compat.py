"""The one place that patches third-party import problems. Call `import_basicsr()` instead of `import basicsr`.

bitsandbytes: pyiqa 0.1.16 requires it (on every platform but macOS), so it is installed although the harness
never uses it; diffusers' quantizer module imports it whenever it is installed, and its CPU backend then logs
"Failed to load CPU gemm_4bit_forward from kernels-community" (an optional `kernels` package) at WARNING level,
the first line of every training log. `quiet_unused_libraries()` — called when `lgcaa` is imported — raises
that logger's threshold to ERROR; real errors still show. Importing it also costs ~1.3 s of every process that
builds a model (CPU, measured with `python -X importtime`), so `import_diffusers()` hides it from diffusers' one
check of what is installed: diffusers then never imports it, and it stays importable for everyone else.

basicsr 1.4.2 (latest release) imports `torchvision.transforms.functional_tensor`, which torchvision
removed in 0.17; upstream fixed this after the release. The module's only use in basicsr
(`rgb_to_grayscale` in basicsr/data/degradations.py) is also in `torchvision.transforms.functional`,
so aliasing the old name to the new module before basicsr is imported is sufficient.

`import basicsr` also imports every architecture, dataset, loss and model of basicsr (~2.8 s of CPU beyond torch,
measured with `python -X importtime`); a process that only resizes (the bicubic baseline, bicubic LR) loads
basicsr's `matlab_functions.py` — which imports math, numpy and torch only — from its file instead
(`basicsr_imresize()`): the same code, without the package around it.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

UNUSED_LIBRARY_LOGGERS = ("bitsandbytes",)


def quiet_unused_libraries() -> None:
    """Silence import-time warnings of libraries our dependencies pull in but we never call (see above)."""
    for name in UNUSED_LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def import_diffusers() -> ModuleType:
    """Import diffusers as `import diffusers` does, except that diffusers sees no bitsandbytes (see above): call it
    before the first `from diffusers ...` of a process; returns the diffusers module.

    diffusers decides once, when `diffusers.utils.import_utils` loads, which optional packages are installed;
    bitsandbytes is hidden (None in sys.modules: `importlib.util.find_spec` answers None) for that decision only.
    Called after diffusers is loaded it changes nothing."""
    if "diffusers.utils.import_utils" not in sys.modules and "bitsandbytes" not in sys.modules:
        sys.modules["bitsandbytes"] = None  # type: ignore[assignment]
        try:
            import diffusers.utils.import_utils
        finally:
            del sys.modules["bitsandbytes"]
    import diffusers

    return diffusers


def import_basicsr() -> ModuleType:
    """Import basicsr with the torchvision alias in place; returns the basicsr module."""
    if "torchvision.transforms.functional_tensor" not in sys.modules:
        import torchvision.transforms.functional as tvf

        sys.modules["torchvision.transforms.functional_tensor"] = tvf
    import basicsr

    return basicsr


MATLAB_FUNCTIONS = "basicsr.utils.matlab_functions"
_MATLAB_FUNCTIONS_ALONE = "lgcaa.compat.basicsr_matlab_functions"  # the same file, loaded without its package


def basicsr_imresize() -> Callable:
    """basicsr's MATLAB-compatible `imresize(img, scale, antialiasing=True)` ((H,W,C) float in [0,1] -> resized),
    from basicsr/utils/matlab_functions.py loaded on its own (see above); basicsr's own module once basicsr is
    imported."""
    if MATLAB_FUNCTIONS in sys.modules:
        return sys.modules[MATLAB_FUNCTIONS].imresize
    module = sys.modules.get(_MATLAB_FUNCTIONS_ALONE)
    if module is None:
        package = importlib.util.find_spec("basicsr")  # finds the package without running its __init__
        if package is None or package.origin is None:
            raise ModuleNotFoundError("basicsr is not installed (pip install -r requirements.txt)", name="basicsr")
        path = Path(package.origin).parent / "utils" / "matlab_functions.py"
        spec = importlib.util.spec_from_file_location(_MATLAB_FUNCTIONS_ALONE, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[_MATLAB_FUNCTIONS_ALONE] = module
    return module.imresize
