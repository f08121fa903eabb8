import sys, json
sys.path.insert(0, "/work/wt/hardening/tests")
from conftest import dag_config
from lgcaa.config import validate
def small():
    cfg = dag_config()
    cfg["methods"] = ["bicubic", "lanczos"]
    cfg["metrics"] = ["psnr", "ssim"]
    cfg["model"]["runs"] = {}
    cfg["seeds"] = {"k": 1, "methods": []}
    cfg["tables"]["table1"]["methods"] = ["bicubic", "lanczos"]
    cfg["tables"].pop("compare", None)
    cfg["tables"]["curves"]["series"][0]["points"][1]["method"] = "lanczos"
    for f in ("fig9", "fig10", "fig11"):
        cfg["figures"].pop(f, None)
    return validate(cfg, source="small")
