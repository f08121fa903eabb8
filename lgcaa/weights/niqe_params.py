"""NIQE pristine-model parameters produced offline.

pyiqa's NIQE loads `niqe_modelparameters.mat` (keys `mu_prisparam`, `cov_prisparam`) from
`torch.hub.get_dir()/pyiqa/`; basicsr ships the same official parameters as
`basicsr/metrics/niqe_pris_params.npz` (keys `mu_pris_param`, `cov_pris_param`). We convert one into the
other, so NIQE needs no download.
"""

from __future__ import annotations

from pathlib import Path

from lgcaa.io import atomic_path


def basicsr_npz_path() -> Path:
    from importlib import util

    spec = util.find_spec("basicsr")
    assert spec is not None and spec.origin is not None, "basicsr is not installed"
    return Path(spec.origin).parent / "metrics" / "niqe_pris_params.npz"


def write_niqe_mat(dest: str | Path) -> Path:
    """Write the pyiqa-format .mat converted from basicsr's npz to `dest` (atomic)."""
    import numpy as np
    import scipy.io

    params = np.load(basicsr_npz_path())
    with atomic_path(dest, suffix=".mat") as tmp:
        scipy.io.savemat(tmp, {"mu_prisparam": params["mu_pris_param"], "cov_prisparam": params["cov_pris_param"]})
    return Path(dest)


def mat_matches_basicsr(path: str | Path) -> bool:
    """Whether a .mat holds exactly basicsr's NIQE parameters (False when unreadable)."""
    import numpy as np
    import scipy.io

    try:
        mat = scipy.io.loadmat(str(path))
    except Exception:  # noqa: BLE001 - scipy raises assorted types on a damaged file; any means 'no match'
        return False
    params = np.load(basicsr_npz_path())
    return bool(
        "mu_prisparam" in mat and "cov_prisparam" in mat
        and np.array_equal(np.ravel(mat["mu_prisparam"]), np.ravel(params["mu_pris_param"]))
        and np.array_equal(mat["cov_prisparam"], params["cov_pris_param"])
    )
