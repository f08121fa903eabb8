"""The per-image gallery (lgcaa.report.gallery): every test image x every method of the mini profile's plan
(baselines, LGCAA runs and variants, an extra seed, an LR-only set) on synthetic tiny PNGs, named by relative
paths that resolve; every metric column; rendered by headless Chromium, its viewer's synchronised zoom and pan
exercised, and every image it names loaded by the browser."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
from test_report import _chromium, _headless

from lgcaa.config import load_config
from lgcaa.instances import eval_pairs, lr_only, sr_pairs
from lgcaa.io import write_json, write_png, write_text
from lgcaa.layout import Layout
from lgcaa.report.gallery import HR_KEY, LR_KEY

IMAGES = ["a.png", "b.png"]
LR_ONLY = "my-folder"
SCORED = {"psnr": 24.0, "ssim": 0.7, "niqe": 6.0, "musiq": 50.0}  # + offsets per method and image
MISSING_REASON = "weights absent: LPIPS_v0.1_alex.pth"


def _colour(i: int) -> tuple[int, int, int]:
    """A distinct, saturated colour per panel (found again in the screenshot)."""
    return 30 + (i * 67) % 190, 30 + (i * 113) % 190, 30 + (i * 151) % 190


def _solid(side: int, rgb: tuple[int, int, int]) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, dtype=np.uint8), (side, side, 3)).copy()


def build_tree(root: Path) -> dict:
    """The mini profile's plan (with 2 seeds of `lgcaa` and an LR-only folder set) rooted in `root`: LR 8², HR and
    every SR output 32², a solid colour per panel; per-image scores of 4 metrics, LPIPS missing, NIQE undefined
    on one image of one method."""
    cfg = copy.deepcopy(load_config("mini"))
    cfg["paths"] = {"data": str(root / "data"), "results": str(root / "results")}
    cfg["seeds"] = {"k": 2, "methods": ["lgcaa"]}
    cfg["datasets"][LR_ONLY] = {"source": "folder", "lr": "released", "label": "My LR folder",
                                "lr_dir": str(root / "my-lr")}
    for name in IMAGES:
        write_png(root / "my-lr" / name, _solid(8, _colour(0)))
    L = Layout.of(cfg)
    for d in cfg["datasets"]:
        keys = [LR_KEY, *(m for ds, m in sr_pairs(cfg) if ds == d), HR_KEY]
        for name in IMAGES:
            write_png(Path(L.lr_dir(d)) / name, _solid(8, _colour(0)))
            if d != LR_ONLY:
                write_png(Path(L.hr_dir(d)) / name, _solid(32, _colour(len(keys) - 1)))
            for i, m in enumerate(keys[1:-1], 1):
                write_png(Path(L.sr_dir(d, m)) / name, _solid(32, _colour(i)))
    for j, (d, m) in enumerate(eval_pairs(cfg)):
        rows = ["image,metric,value"]
        for k, name in enumerate(IMAGES):
            for metric, base in SCORED.items():
                if metric == "niqe" and (j, k) == (0, 1):
                    continue  # undefined there: left out of the CSV, named in the aggregate
                rows.append(f"{name},{metric},{base + j + k / 10!r}")
        write_text(L.per_image(d, m), "\n".join(rows) + "\n")
        metrics = {x: {"status": "ok", "mean": 0.0, "n": 2} for x in SCORED}
        metrics["lpips"] = {"status": "missing", "reason": MISSING_REASON, "fix": "lgcaa weights fetch lpips"}
        if j == 0:
            metrics["niqe"]["undefined"] = {"n": 1, "images": [IMAGES[1]], "reason": "flat"}
        write_json(L.aggregate(d, m), {"dataset": d, "method": m, "n_images": 2, "metrics": metrics})
    return cfg


def gallery_json(page: Path) -> dict:
    text = page.read_text()
    m = re.search(r'<script type="application/json" id="gallery-data">(.*?)</script>', text, re.DOTALL)
    assert m, "no gallery data in the page"
    return json.loads(m.group(1))


def gallery_problems(page: Path, cfg: dict) -> list[str]:
    """What the gallery at `page` lacks: an (image, panel) of the profile's plan without a relative URL that
    resolves to that very file, a metric of the profile without its column, a panel out of the plan's order."""
    L = Layout.of(cfg)
    data = {s["dataset"]: s for s in gallery_json(page)["sets"]}
    problems = []
    if list(data) != list(cfg["datasets"]):
        problems.append(f"datasets {list(data)} != {list(cfg['datasets'])}")
    for d in cfg["datasets"]:
        s = data.get(d, {"panels": [], "images": [], "metrics": []})
        planned = [m for ds, m in sr_pairs(cfg) if ds == d]
        expected = {LR_KEY: L.lr_dir(d), **{m: L.sr_dir(d, m) for m in planned}}
        if not lr_only(cfg, d):
            expected[HR_KEY] = L.hr_dir(d)
        if [p["key"] for p in s["panels"]] != list(expected):
            problems.append(f"{d}: panels {[p['key'] for p in s['panels']]} != {list(expected)}")
        if [m["name"] for m in s["metrics"]] != cfg["metrics"]:
            problems.append(f"{d}: metric columns {[m['name'] for m in s['metrics']]} != {cfg['metrics']}")
        images = {im["name"]: im for im in s["images"]}
        if list(images) != sorted(p.name for p in Path(L.lr_dir(d)).glob("*.png")):
            problems.append(f"{d}: images {list(images)}")
        for name, im in images.items():
            for key, folder in expected.items():
                src = im["src"].get(key)
                if src is None:
                    problems.append(f"{d}/{name}: no {key}")
                    continue
                url = src[0]
                target = page.parent / unquote(url)
                if url.startswith(("/", "file:", "http:", "https:", "data:")):
                    problems.append(f"{d}/{name}/{key}: not a relative URL: {url}")
                elif not target.is_file() or not target.samefile(Path(folder) / name):
                    problems.append(f"{d}/{name}/{key}: {url} does not resolve to {Path(folder) / name}")
    return problems


@pytest.fixture(scope="module")
def gallery(tmp_path_factory) -> tuple[Path, dict]:
    """The tree above and its gallery, written by the CLI (`lgcaa report gallery --config FILE`)."""
    from lgcaa.cli import main

    root = tmp_path_factory.mktemp("gallery")
    cfg = build_tree(root)
    path = root / "cfg.json"
    path.write_text(json.dumps(cfg))
    assert main(["report", "gallery", "--config", str(path)]) == 0
    return Path(Layout.of(cfg).gallery_html()), cfg


def test_every_image_and_method_is_named_by_a_relative_path_to_its_file(gallery, tmp_path):
    from lgcaa.report.gallery import collect_gallery, render_gallery

    page, cfg = gallery
    assert page.parent == Path(cfg["paths"]["results"]) / "report"
    assert gallery_problems(page, cfg) == []
    data = {s["dataset"]: s for s in gallery_json(page)["sets"]}
    bic = data["mini-realesrgan"]
    labels = {p["key"]: p["label"] for p in bic["panels"]}
    assert labels[LR_KEY] == "LR" and labels[HR_KEY] == "HR" and labels["realsr-df2k"] == "RealSR (DF2K)"
    assert labels["lgcaa@seed1"].endswith("@seed1") and "lgcaa-attn-local" in labels  # extra seeds, variants
    assert len(bic["panels"]) == 2 + len([m for d, m in sr_pairs(cfg) if d == "mini-realesrgan"]) > 15
    assert data[LR_ONLY]["notes"][0].startswith("LR-only") and not any(p["scored"] for p in data[LR_ONLY]["panels"])
    # scores: the CSV's numbers, per image and method; LPIPS has a column that says why it is empty
    first_d, first_m = eval_pairs(cfg)[0]
    im = data[first_d]["images"][1]
    assert im["scores"][first_m]["psnr"] == pytest.approx(SCORED["psnr"] + 0.1) and "niqe" not in im["scores"][first_m]
    assert im["undefined"] == {first_m: ["niqe"]}
    metrics = {m["name"]: m for m in data[first_d]["metrics"]}
    assert MISSING_REASON in metrics["lpips"]["note"] and "set-level" in metrics["fid"]["note"]
    assert metrics["niqe"]["lower"] and metrics["niqe"]["arrow"] == "↓" and not metrics["psnr"]["lower"]
    text = page.read_text()
    assert "<link" not in text and "http://" not in text and "https://" not in text  # nothing from a network
    assert page.stat().st_size < 200_000  # images referenced, never embedded
    # the check finds what it looks for: a missing output and a moved page are both reported
    victim = Path(Layout.of(cfg).sr_dir("mini-realesrgan", "lgcaa-attn-local")) / "b.png"
    victim.rename(tmp_path / "b.png")
    try:
        out = tmp_path / "moved.html"
        out.write_text(render_gallery(collect_gallery(cfg), page.parent))
        assert gallery_problems(out, cfg) != []  # URLs relative to another folder resolve to nothing
        out = page.parent / "regenerated.html"
        out.write_text(render_gallery(collect_gallery(cfg), page.parent))
        assert gallery_problems(out, cfg) == ["mini-realesrgan/b.png: no lgcaa-attn-local"]
        assert "1 image file(s) missing" in gallery_json(out)["sets"][1]["notes"][0]
        out.unlink()
    finally:
        (tmp_path / "b.png").rename(victim)


def test_the_report_links_to_the_gallery_beside_it():
    from lgcaa.report.gallery import report_link

    L = Layout("res", "dat")
    link = report_link(L.from_report(L.gallery_html()))
    href = re.search(r'href="([^"]+)"', link).group(1)
    assert (Path(L.report_html()).parent / href).as_posix() == L.gallery_html()


# JS run after the viewer (a copy of the page beside it, so its relative URLs hold): zoom with the wheel on one
# panel, drag another, and write what every panel's image shows into the DOM.
PROBE = """<script>
(function () {
  var panels = document.querySelectorAll(".panel"), imgs = document.querySelectorAll(".panel img");
  var t = function () { return Array.prototype.map.call(imgs, function (i) { return i.style.transform; }); };
  var before = t();
  var r = panels[1].getBoundingClientRect();
  panels[1].dispatchEvent(new WheelEvent("wheel", {deltaY: -600, clientX: r.left + 10, clientY: r.top + 10,
                                                   bubbles: true, cancelable: true}));
  var zoomed = t();
  var q = panels[2].getBoundingClientRect();
  panels[2].dispatchEvent(new PointerEvent("pointerdown", {clientX: q.left + 50, clientY: q.top + 50, pointerId: 7, bubbles: true}));
  panels[2].dispatchEvent(new PointerEvent("pointermove", {clientX: q.left + 80, clientY: q.top + 20, pointerId: 7, bubbles: true}));
  panels[2].dispatchEvent(new PointerEvent("pointerup", {clientX: q.left + 80, clientY: q.top + 20, pointerId: 7, bubbles: true}));
  var dragged = t();
  var px = Array.prototype.map.call(imgs, function (i) { return i.classList.contains("px"); });
  var out = document.createElement("pre");
  out.id = "probe";
  var all = document.getElementById("all");
  all.open = true;  // the all-images table renders on its toggle event; then sort it by the first metric
  setTimeout(function () {
    document.querySelector('#all-table th[data-col="0"]').click();
    var psnr = Array.prototype.map.call(document.querySelectorAll("#all-table tbody tr"), function (tr) {
      return tr.children[2].textContent;
    });
    out.textContent = JSON.stringify({before: before, zoomed: zoomed, dragged: dragged, px: px, sorted: psnr});
    document.body.appendChild(out);
  }, 50);
})();
</script></body>"""


def dump_dom(page: str | Path) -> str:
    """The page's DOM after its scripts ran (5 s of virtual time: the image loads finish)."""
    import tempfile

    from lgcaa.report.browser import page_url

    with tempfile.TemporaryDirectory() as profile:
        return _headless(_chromium(), Path(profile), "--virtual-time-budget=5000", "--dump-dom", page_url(page)).stdout


def _probe(dom: str) -> dict:
    m = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.DOTALL)
    assert m, dom[-2000:]
    return json.loads(m.group(1).replace("&quot;", '"'))


def _attrs(dom: str, element_id: str) -> dict[str, str]:
    m = re.search(rf'<[a-z]+ id="{element_id}"([^>]*)>', dom)
    assert m, f"#{element_id} not in the DOM"
    return dict(re.findall(r'([a-z-]+)="([^"]*)"', m.group(1)))


def _scale(transform: str) -> float:
    return float(re.search(r"scale\(([\d.e+-]+)\)", transform).group(1))


def _translate(transform: str) -> tuple[float, float]:
    x, y = re.search(r"translate\(([-\d.e+]+)px, ?([-\d.e+]+)px\)", transform).groups()
    return float(x), float(y)


def test_the_viewer_runs_in_headless_chromium_loads_every_image_and_zooms_all_panels_together(gallery):
    _chromium()
    page, cfg = gallery
    # every image the page names, loaded by the browser (#check), and the first image's panels drawn
    dom = dump_dom(f"{page}#check")
    status = _attrs(dom, "gallery-status")
    n_panels = len(gallery_json(page)["sets"][0]["panels"])
    assert status["data-state"] == "ready" and status["data-failed"] == "0", status
    assert status["data-loaded"] == str(n_panels) and dom.count('class="panel"') == n_panels
    check = _attrs(dom, "gallery-check")
    total = sum(len(s["panels"]) * len(s["images"]) for s in gallery_json(page)["sets"])
    assert check == {"data-total": str(total), "data-loaded": str(total), "data-failed": "0", "data-state": "done"}
    # the selected image's scores: every metric's column, best bold
    table = re.search(r'<table class="results per-image" id="scores-table">.*?</table>', dom, re.DOTALL).group(0)
    for m in cfg["metrics"]:
        from lgcaa.metrics.registry import get

        assert f">{get(m).label} " in table, m
    assert '<td class="best"><b>' in table
    # a deep link selects the dataset and image
    dom = dump_dom(f"{page}#ds=mini-realesrgan&img=b.png")
    assert "Mini (Real-ESRGAN deg. x4) — b.png" in dom and _attrs(dom, "gallery-status")["data-state"] == "ready"
    # a deep link with a zoom: every panel at 400% around one HR pixel
    dom = dump_dom(f"{page}#ds=mini-bicubic&img=a.png&zoom=4&at=8,8")
    views = re.findall(r"transform: (translate\([^)]*\) scale\([^)]*\))", dom)
    assert len(views) == n_panels and {_scale(v) for v in views} == {4.0}, views
    # synchronised zoom and pan: a wheel on one panel and a drag on another move every panel's image alike
    probe_page = page.with_name("probe.html")
    probe_page.write_text(page.read_text().replace("</body>", PROBE))
    p = _probe(dump_dom(probe_page))
    for state in ("before", "zoomed", "dragged"):
        assert len(set(p[state])) == 1 and len(p[state]) == n_panels, (state, p[state])
    s0, s1 = _scale(p["before"][0]), _scale(p["zoomed"][0])
    assert s1 > s0 * 2  # zoomed in at the pointer
    (x1, y1), (x2, y2) = _translate(p["zoomed"][0]), _translate(p["dragged"][0])
    assert (round(x2 - x1), round(y2 - y1)) == (30, -30)  # panned by the drag
    assert all(p["px"])  # zoomed past 1:1: every panel draws square pixels
    # the all-images table of the dataset, sorted by a click on its first metric's header
    scored = [q for q in gallery_json(page)["sets"][0]["panels"] if q["scored"]]
    values = [float(v) for v in p["sorted"]]
    assert len(values) == len(IMAGES) * len(scored) and values == sorted(values) and len(set(values)) > 1


def test_a_missing_image_is_reported_by_the_browser(gallery, tmp_path):
    """The load check fails when a file the page names is gone (the check above can fail)."""
    from lgcaa.tables.spec import method_label

    _chromium()
    page, cfg = gallery
    victim = Path(Layout.of(cfg).sr_dir("mini-bicubic", "lanczos")) / "a.png"
    victim.rename(tmp_path / "a.png")
    try:
        dom = dump_dom(f"{page}#check")
    finally:
        (tmp_path / "a.png").rename(victim)
    check = _attrs(dom, "gallery-check")
    assert check["data-failed"] == "1" and "sr/mini-bicubic/lanczos/a.png" in dom
    status = _attrs(dom, "gallery-status")
    assert status["data-state"] == "failed" and f"failed: {method_label(cfg, 'lanczos')}" in dom


def test_screenshot_of_the_gallery_shows_every_panel_of_the_first_image(gallery, tmp_path):
    """`lgcaa report screenshot` (lgcaa.report.browser.screenshot): the page as drawn, each panel's colour on it."""
    from PIL import Image

    from lgcaa.cli import main
    from lgcaa.errors import UserError
    from lgcaa.report.browser import screenshot

    _chromium()
    page, _ = gallery
    shot = tmp_path / "gallery.png"
    assert main(["report", "screenshot", str(page), "--out", str(shot), "--width", "1280", "--height", "1000"]) == 0
    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert img.shape == (1000, 1280, 3)
    panels = gallery_json(page)["sets"][0]["panels"]
    assert len(panels) == 8  # LR, 4 baselines, LGCAA and its extra seed, HR: two rows of four fit the window
    colours = [_colour(0), *(_colour(i) for i in range(1, len(panels) - 1)), _colour(len(panels) - 1)]
    for key, rgb in zip([p["key"] for p in panels], colours):
        near = (np.abs(img - np.array(rgb)).sum(axis=2) <= 6).sum()
        assert near > 10_000, f"{key}: its colour {rgb} covers {near} pixels of the screenshot"
    with pytest.raises(UserError, match="page not found"):
        screenshot(tmp_path / "none.html", tmp_path / "x.png")


def test_screenshot_waits_for_text_a_page_draws_after_loading(tmp_path):
    """`--wait-for`: a page that draws after its load event (as MLflow's UI does once it has fetched a run) is taken
    only once the text is there; text that never comes is one UserError naming the page and the text."""
    from PIL import Image

    from lgcaa.cli import main
    from lgcaa.errors import UserError
    from lgcaa.report.browser import screenshot

    _chromium()
    page = tmp_path / "late.html"
    page.write_text("<html><body style='margin:0;background:#fff'><script>setTimeout(() => {document.body.innerHTML ="
                    " '<div style=\"width:400px;height:300px;background:#f00\">run 42</div>'}, 800)</script></body></html>")
    shot = tmp_path / "late.png"
    assert main(["report", "screenshot", str(page), "--out", str(shot), "--width", "400", "--height", "300",
                 "--wait-for", "run 42"]) == 0
    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert (np.abs(img - np.array([255, 0, 0])).sum(axis=2) <= 6).mean() > 0.9  # the late drawing, not a blank page
    with pytest.raises(UserError, match="showing 'run 43' within 2 s"):
        screenshot(page, tmp_path / "never.png", 400, 300, timeout=2, wait_for="run 43")
