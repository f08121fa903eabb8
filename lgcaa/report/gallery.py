"""The per-image gallery: every test image of every dataset, every method's output, at full resolution, with
synchronised zoom and every metric's per-image score — one HTML file beside the report (`Layout.gallery_html`).

For each dataset of the profile and each of its test images (the LR folder, sorted by file name as the datasets'
`limit` is): the LR input, each method instance's SR output (the baselines, then the LGCAA runs and variants, in
the order `lgcaa.instances.sr_pairs` plans them; extra seeds as their own panels) and the HR, side by side. A small
inline viewer (no network, no library) shows one image at a time: wheel to zoom at the pointer, drag to pan, and
every panel follows; all panels share the HR's pixel grid (LR drawn nearest-neighbour at the HR's size), and
pixels are drawn as squares once zoomed past 1:1. Under the panels: the selected image's scores of every metric
of the profile (best bold, second underlined, by each metric's direction), and a sortable table of all images x
methods x metrics, both from each evaluation's per-image CSV.

The images are not embedded: the page names the PNGs under `<data>` and `<results>/sr` by paths relative to
itself, so it works opened from disk (file://) and served from the project folder, and stays small. Open
`gallery.html#check` to have the page load every image it names and list the ones that fail (the tests do);
`#ds=DATASET&img=NAME&zoom=4&at=X,Y` opens one image at 400% centred on HR pixel (X, Y) (for screenshots).

`collect_gallery` reads the results layout; `gallery_data` and `render_gallery` are pure.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

LR_KEY = "@lr"  # panel keys of the input and the reference: '@' never starts a method name (lgcaa.io.check_name)
HR_KEY = "@hr"


@dataclass(frozen=True)
class Panel:
    key: str  # LR_KEY, HR_KEY or a method instance (its SR folder's name)
    label: str
    scored: bool = False  # evaluated against HR: has per-image scores


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    lower_better: bool
    decimals: int
    note: str = ""  # why some or all of its cells are empty (weights missing, set-level metric)


@dataclass(frozen=True)
class GalleryImage:
    name: str
    files: dict[str, str]  # panel key -> PNG path as the layout spells it; a key absent = that file is missing
    sizes: dict[str, tuple[int, int]]  # panel key -> (width, height)
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # method instance -> metric -> value
    undefined: dict[str, tuple[str, ...]] = field(default_factory=dict)  # method instance -> metrics undefined here

    @property
    def canvas(self) -> tuple[int, int]:
        """The pixel grid every panel is drawn on: the HR's, else the largest image's."""
        if HR_KEY in self.sizes:
            return self.sizes[HR_KEY]
        return max(self.sizes.values(), key=lambda s: s[0] * s[1], default=(1, 1))


@dataclass(frozen=True)
class GallerySet:
    dataset: str
    label: str
    panels: tuple[Panel, ...]  # LR, the methods, HR (absent for an LR-only dataset)
    metrics: tuple[Metric, ...]
    images: tuple[GalleryImage, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Gallery:
    profile: str
    comparable: bool
    sets: tuple[GallerySet, ...]


# ------------------------------------------------------------------------------------------------ collect


def _instances(cfg: dict[str, Any], dataset: str) -> list[tuple[str, str]]:
    """(instance, method) of every SR output of `dataset`, in `sr_pairs` order (baselines, then LGCAA)."""
    from lgcaa.instances import sample_jobs, sr_jobs

    jobs = [*sr_jobs(cfg), *sample_jobs(cfg)]
    return [(j.instance, j.method) for j in jobs if j.dataset == dataset]


def _panel_label(cfg: dict[str, Any], instance: str, method: str) -> str:
    from lgcaa.tables.spec import method_label

    label = method_label(cfg, method)
    return label if instance == method else f"{label} {instance[len(method):]}"  # "LGCAA @seed1"


def _metrics(cfg: dict[str, Any], reasons: dict[str, str]) -> tuple[Metric, ...]:
    from lgcaa.metrics.registry import get

    out = []
    for name in cfg["metrics"]:
        spec = get(name)
        note = reasons.get(name, "")
        if spec.mode == "SET":
            note = "set-level metric: no per-image value (see the tables)"
        out.append(Metric(name, spec.label, spec.lower_better, spec.decimals, note))
    return tuple(out)


def _aggregate_notes(path: Path, reasons: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """{metric: images it is undefined on} of one evaluation; records the first 'missing' reason per metric."""
    if not path.is_file():
        return {}
    undefined = {}
    for m, entry in json.loads(path.read_text()).get("metrics", {}).items():
        if entry.get("status") == "missing":
            reasons.setdefault(m, f"missing: {entry.get('reason', '')}")
        if entry.get("undefined"):
            undefined[m] = tuple(entry["undefined"].get("images", ()))
    return undefined


def collect_set(cfg: dict[str, Any], dataset: str) -> GallerySet:
    """One dataset's images, panels and per-image scores, read from the profile's layout."""
    from lgcaa.instances import eval_pairs, lr_only
    from lgcaa.io import list_images
    from lgcaa.layout import Layout
    from lgcaa.metrics.decode import image_size
    from lgcaa.tables.cells import read_per_image
    from lgcaa.tables.spec import dataset_label

    L = Layout.of(cfg)
    scored = set(eval_pairs(cfg))
    instances = _instances(cfg, dataset)
    folders = {LR_KEY: L.lr_dir(dataset)}
    folders.update({inst: L.sr_dir(dataset, inst) for inst, _ in instances})
    panels = [Panel(LR_KEY, "LR")]
    panels += [Panel(i, _panel_label(cfg, i, m), (dataset, i) in scored) for i, m in instances]
    if not lr_only(cfg, dataset):
        folders[HR_KEY] = L.hr_dir(dataset)
        panels.append(Panel(HR_KEY, "HR"))
    reasons: dict[str, str] = {}
    scores: dict[str, dict[str, dict[str, float]]] = {}  # instance -> metric -> image -> value
    undefined: dict[str, dict[str, tuple[str, ...]]] = {}
    for p in panels:
        if p.scored:
            scores[p.key] = read_per_image(Path(L.per_image(dataset, p.key)))
            undefined[p.key] = _aggregate_notes(Path(L.aggregate(dataset, p.key)), reasons)
    images = []
    for name in (f.name for f in list_images(folders[LR_KEY])):
        files, sizes = {}, {}
        for key, folder in folders.items():
            f = Path(folder) / name
            if f.is_file():
                h, w = image_size(f)
                files[key], sizes[key] = f"{folder}/{name}", (w, h)
        per = {i: {m: v[name] for m, v in s.items() if name in v} for i, s in scores.items()}
        und = {i: tuple(m for m, imgs in u.items() if name in imgs) for i, u in undefined.items()}
        images.append(GalleryImage(name, files, sizes, per, {i: u for i, u in und.items() if u}))
    notes = []
    if lr_only(cfg, dataset):
        notes.append("LR-only dataset: no HR, nothing scored")
    absent = sum(len(folders) - len(i.files) for i in images)
    if absent:
        notes.append(f"{absent} image file(s) missing (shown as 'missing'); rerun their jobs (snakemake)")
    return GallerySet(dataset, dataset_label(cfg, dataset), tuple(panels), _metrics(cfg, reasons), tuple(images),
                      tuple(notes))


def collect_gallery(cfg: dict[str, Any]) -> Gallery:
    """Every dataset of the profile, in its order."""
    return Gallery(cfg["profile"], bool(cfg.get("comparable_to_paper")),
                   tuple(collect_set(cfg, d) for d in cfg["datasets"]))


# ------------------------------------------------------------------------------------------------ render


def relative_url(path: str, base: str | Path) -> str:
    """`path` as a URL relative to the folder `base` (the gallery's): '/'-separated, percent-encoded."""
    return quote(os.path.relpath(path, base).replace(os.sep, "/"))


def gallery_data(g: Gallery, base: str | Path) -> dict[str, Any]:
    """What the viewer reads (JSON): per set its panels, metrics and images, with image URLs relative to `base`."""
    sets = []
    for s in g.sets:
        images = []
        for im in s.images:
            src = {k: [relative_url(f, base), *im.sizes[k]] for k, f in im.files.items()}
            scores = {k: {m: round(v, 6) for m, v in sc.items()} for k, sc in im.scores.items()}  # shown to <= 4 places
            images.append({"name": im.name, "canvas": list(im.canvas), "src": src, "scores": scores,
                           "undefined": {k: list(v) for k, v in im.undefined.items()}})
        sets.append({
            "dataset": s.dataset,
            "label": s.label,
            "panels": [{"key": p.key, "label": p.label, "scored": p.scored} for p in s.panels],
            "metrics": [{"name": m.name, "label": m.label, "arrow": "↓" if m.lower_better else "↑",
                         "lower": m.lower_better, "decimals": m.decimals, "note": m.note} for m in s.metrics],
            "images": images,
            "notes": list(s.notes),
        })
    return {"profile": g.profile, "sets": sets}


def report_link(href: str) -> str:
    """The report's line pointing to the gallery at `href` (relative to the report: `Layout.from_report`)."""
    return (f'<p class="note">Every test image with every method\'s output at full resolution, synchronised zoom '
            f'and every metric per image: <a href="{html.escape(href)}">the per-image gallery</a>.</p>\n')


CSS = """
#bar { position: sticky; top: 0; z-index: 5; background: #fff; border-bottom: 1px solid #ccc; padding: 6px 0;
  display: flex; flex-wrap: wrap; gap: 6px 12px; align-items: center; font-size: 13px; }
#bar select { max-width: 320px; } #bar .grp { white-space: nowrap; }
#methods label { margin-right: 8px; white-space: nowrap; font-size: 12px; }
#panels { display: flex; flex-wrap: wrap; gap: 8px; margin: 10px 0; }
.panel { position: relative; overflow: hidden; border: 1px solid #999; cursor: grab; touch-action: none;
  background: repeating-conic-gradient(#ddd 0 25%, #f4f4f4 0 50%) 0 0 / 16px 16px; }
.panel.dragging { cursor: grabbing; }
.panel img { position: absolute; left: 0; top: 0; transform-origin: 0 0; max-width: none; user-select: none;
  -webkit-user-drag: none; pointer-events: none; }
.panel img.px { image-rendering: pixelated; }
.panel .cap { position: absolute; left: 0; right: 0; bottom: 0; padding: 2px 6px; font-size: 12px; color: #fff;
  background: rgba(0, 0, 0, 0.62); pointer-events: none; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.panel .gone { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center;
  color: #8b0000; font-size: 13px; padding: 8px; text-align: center; }
table.results th.sortable { cursor: pointer; } table.results td.img { text-align: left; cursor: pointer; color: #0b4f9c; }
#gallery-status { font-size: 12px; color: #555; }
"""

# The viewer: plain DOM, no library, no network. State: the selected set and image, and one view (scale s,
# offset tx/ty in screen pixels of a panel) that every panel applies to the same canvas.
JS = r"""
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("gallery-data").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var status = $("gallery-status");
  var st = {set: 0, img: 0, s: 1, fit: 1, tx: 0, ty: 0, pw: 0, ph: 0, canvas: null, hidden: {}, sort: null};
  var panels = [];
  var load = {n: 0, ok: 0, failed: []};
  function esc(t) {
    return String(t).replace(/[&<>"]/g, function (c) { return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]; });
  }
  function cur() { return DATA.sets[st.set]; }
  function image() { return cur().images[st.img]; }
  function fmt(v, m) { return v === undefined || v === null ? "—" : v.toFixed(m.decimals); }
  function params() {
    var out = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
      if (!kv) return;
      var i = kv.indexOf("=");
      out[decodeURIComponent(i < 0 ? kv : kv.slice(0, i))] = i < 0 ? "" : decodeURIComponent(kv.slice(i + 1));
    });
    return out;
  }
  function remember() {
    var h = "#ds=" + encodeURIComponent(cur().dataset) + "&img=" + encodeURIComponent(image() ? image().name : "");
    if (history.replaceState) history.replaceState(null, "", h);
  }
  function ranks(values, lower) {
    var seen = values.filter(function (v) { return v !== undefined && v !== null; });
    var uniq = seen.filter(function (v, i) { return seen.indexOf(v) === i; });
    uniq.sort(function (a, b) { return lower ? a - b : b - a; });
    return values.map(function (v) {
      if (v === undefined || v === null) return "";
      return v === uniq[0] ? "best" : (uniq.length > 1 && v === uniq[1] ? "second" : "");
    });
  }
  function scoredPanels() { return cur().panels.filter(function (p) { return p.scored; }); }

  // --------------------------------------------------------------------------------- controls
  function fillSets() {
    $("ds").innerHTML = DATA.sets.map(function (s, i) {
      return "<option value=\"" + i + "\">" + esc(s.label) + " (" + s.images.length + " images)</option>";
    }).join("");
  }
  function fillSet() {
    var s = cur();
    $("ds").value = String(st.set);
    $("img").innerHTML = s.images.map(function (im, i) {
      return "<option value=\"" + i + "\">" + (i + 1) + ". " + esc(im.name) + "</option>";
    }).join("");
    $("methods").innerHTML = s.panels.map(function (p, i) {
      return "<label><input type=\"checkbox\" data-key=\"" + esc(p.key) + "\"" + (st.hidden[p.key] ? "" : " checked") +
        "> " + esc(p.label) + "</label>";
    }).join("");
    Array.prototype.forEach.call($("methods").querySelectorAll("input"), function (box) {
      box.addEventListener("change", function () { st.hidden[box.getAttribute("data-key")] = !box.checked; show(true); });
    });
    $("notes").innerHTML = s.notes.map(function (n) { return "<li>" + esc(n) + "</li>"; }).join("") +
      s.metrics.filter(function (m) { return m.note; }).map(function (m) {
        return "<li>" + esc(m.label) + ": " + esc(m.note) + "</li>";
      }).join("");
    if ($("all").open) allTable();
  }

  // --------------------------------------------------------------------------------- panels and view
  function apply() {
    var c = st.canvas;
    panels.forEach(function (p) {
      if (!p.img) return;
      p.img.style.transform = "translate(" + st.tx + "px," + st.ty + "px) scale(" + st.s + ")";
      var eff = st.s * c[0] / p.w;  // screen pixels per pixel of this file
      p.img.classList.toggle("px", eff > 1.0001);
    });
    $("zoom").textContent = Math.round(st.s * 100) + "%";
  }
  function fit() {
    var c = st.canvas;
    st.fit = Math.min(st.pw / c[0], st.ph / c[1]);
    st.s = st.fit;
    st.tx = (st.pw - c[0] * st.s) / 2;
    st.ty = (st.ph - c[1] * st.s) / 2;
    apply();
  }
  function zoomAt(x, y, factor) {
    var s = Math.min(64, Math.max(st.fit / 4, st.s * factor));
    st.tx = x - (x - st.tx) * s / st.s;
    st.ty = y - (y - st.ty) * s / st.s;
    st.s = s;
    apply();
  }
  function oneToOne() { zoomAt(st.pw / 2, st.ph / 2, 1 / st.s); }
  function bind(el) {
    var drag = null;
    el.addEventListener("wheel", function (e) {
      e.preventDefault();
      var r = el.getBoundingClientRect();
      zoomAt(e.clientX - r.left, e.clientY - r.top, Math.exp(-e.deltaY * 0.0015));
    }, {passive: false});
    el.addEventListener("pointerdown", function (e) {
      drag = {x: e.clientX, y: e.clientY, tx: st.tx, ty: st.ty};
      el.classList.add("dragging");
      try { el.setPointerCapture(e.pointerId); } catch (err) { /* a pointer the browser does not track */ }
    });
    el.addEventListener("pointermove", function (e) {
      if (!drag) return;
      st.tx = drag.tx + e.clientX - drag.x;
      st.ty = drag.ty + e.clientY - drag.y;
      apply();
    });
    var end = function () { drag = null; el.classList.remove("dragging"); };
    el.addEventListener("pointerup", end);
    el.addEventListener("pointercancel", end);
    el.addEventListener("dblclick", fit);
  }
  function report() {
    var im = image();
    var done = load.ok + load.failed.length === load.n;
    status.setAttribute("data-state", done ? (load.failed.length ? "failed" : "ready") : "loading");
    status.setAttribute("data-loaded", String(load.ok));
    status.setAttribute("data-failed", String(load.failed.length));
    status.textContent = "gallery " + status.getAttribute("data-state") + ": " + cur().label + ", " +
      (im ? im.name : "no images") + " — " + load.ok + "/" + load.n + " panel images loaded" +
      (load.failed.length ? "; failed: " + load.failed.join(", ") : "");
  }
  function caption(p, im) {
    var size = im.src[p.key] ? " · " + im.src[p.key][1] + "×" + im.src[p.key][2] : "";
    var sc = im.scores[p.key];
    var first = cur().metrics.filter(function (m) { return sc && sc[m.name] !== undefined; }).slice(0, 2);
    return p.label + size + first.map(function (m) { return " · " + m.label + " " + fmt(sc[m.name], m); }).join("");
  }
  function show(keepView) {
    var s = cur(), im = image(), box = $("panels");
    box.innerHTML = "";
    panels = [];
    load = {n: 0, ok: 0, failed: []};
    if (!im) { report(); return; }
    var same = st.canvas && st.canvas[0] === im.canvas[0] && st.canvas[1] === im.canvas[1];
    st.canvas = im.canvas;
    var shown = s.panels.filter(function (p) { return !st.hidden[p.key]; });
    var cols = Math.max(1, Math.min(shown.length, parseInt($("cols").value, 10) || 4));
    var width = Math.max(240, box.clientWidth || document.documentElement.clientWidth - 48);
    st.pw = Math.max(120, Math.floor((width - 8 * (cols - 1)) / cols) - 2);
    st.ph = Math.max(120, Math.min(Math.round(st.pw * im.canvas[1] / im.canvas[0]), window.innerHeight - 140));
    shown.forEach(function (p) {
      var el = document.createElement("div");
      el.className = "panel";
      el.style.width = st.pw + "px";
      el.style.height = st.ph + "px";
      el.setAttribute("data-key", p.key);
      var src = im.src[p.key], entry = {key: p.key, el: el, img: null, w: im.canvas[0]};
      if (src) {
        var img = document.createElement("img");
        img.alt = p.label + " " + im.name;
        img.draggable = false;
        img.decoding = "sync";
        img.style.width = im.canvas[0] + "px";
        img.style.height = im.canvas[1] + "px";
        load.n += 1;
        img.addEventListener("load", function () { load.ok += 1; report(); });
        img.addEventListener("error", function () { load.failed.push(p.label); report(); });
        img.src = src[0];
        entry.img = img;
        entry.w = src[1];
        el.appendChild(img);
      } else {
        var gone = document.createElement("div");
        gone.className = "gone";
        gone.textContent = "missing: no " + im.name + " for " + p.label;
        el.appendChild(gone);
      }
      var cap = document.createElement("div");
      cap.className = "cap";
      cap.textContent = caption(p, im);
      el.appendChild(cap);
      bind(el);
      box.appendChild(el);
      panels.push(entry);
    });
    if (keepView && same) apply(); else fit();
    $("img").value = String(st.img);
    scoresTable();
    remember();
    report();
  }
  function select(set, img) {
    var changed = set !== st.set;
    st.set = Math.max(0, Math.min(DATA.sets.length - 1, set));
    st.img = Math.max(0, Math.min(cur().images.length - 1, img));
    if (changed) fillSet();
    show(true);
  }

  // --------------------------------------------------------------------------------- tables
  function scoresTable() {
    var s = cur(), im = image(), rows = scoredPanels();
    if (!rows.length || !s.metrics.length) {
      $("scores").innerHTML = "<p class=\"note\">No scores for this dataset.</p>";
      return;
    }
    var cols = s.metrics.map(function (m) {
      return ranks(rows.map(function (p) { return (im.scores[p.key] || {})[m.name]; }), m.lower);
    });
    var out = ["<table class=\"results per-image\" id=\"scores-table\"><caption>" + esc(s.label) + " — " + esc(im.name) +
      ": every metric (best bold, second underlined)</caption><thead><tr><th>method</th>"];
    s.metrics.forEach(function (m) {
      out.push("<th title=\"" + esc(m.note) + "\">" + esc(m.label) + " " + m.arrow + "</th>");
    });
    out.push("</tr></thead><tbody>");
    rows.forEach(function (p, r) {
      out.push("<tr><th>" + esc(p.label) + "</th>");
      s.metrics.forEach(function (m, c) {
        var v = (im.scores[p.key] || {})[m.name], mark = cols[c][r];
        var undef = (im.undefined[p.key] || []).indexOf(m.name) >= 0;
        var text = undef ? "undefined" : fmt(v, m);
        if (mark === "best") text = "<b>" + text + "</b>";
        if (mark === "second") text = "<u>" + text + "</u>";
        out.push("<td" + (mark ? " class=\"" + mark + "\"" : "") + ">" + text + "</td>");
      });
      out.push("</tr>");
    });
    out.push("</tbody></table>");
    $("scores").innerHTML = out.join("");
  }
  function allRows() {
    var s = cur(), rows = [];
    s.images.forEach(function (im, i) {
      scoredPanels().forEach(function (p) {
        rows.push({i: i, image: im.name, method: p.label, values: s.metrics.map(function (m) {
          return (im.scores[p.key] || {})[m.name];
        })});
      });
    });
    return rows;
  }
  function allTable() {
    var s = cur(), rows = allRows(), srt = st.sort;
    if (srt) {
      rows.sort(function (a, b) {
        var x = srt.col < 0 ? (srt.col === -2 ? a.image : a.method) : a.values[srt.col];
        var y = srt.col < 0 ? (srt.col === -2 ? b.image : b.method) : b.values[srt.col];
        if (x === undefined) return 1;
        if (y === undefined) return -1;
        return (x < y ? -1 : x > y ? 1 : 0) * srt.dir;
      });
    }
    var head = "<th class=\"sortable\" data-col=\"-2\">image</th><th class=\"sortable\" data-col=\"-1\">method</th>" +
      s.metrics.map(function (m, c) {
        return "<th class=\"sortable\" data-col=\"" + c + "\" title=\"" + esc(m.note) + "\">" + esc(m.label) + " " + m.arrow + "</th>";
      }).join("");
    var body = rows.map(function (r) {
      return "<tr><td class=\"img\" data-i=\"" + r.i + "\">" + esc(r.image) + "</td><td>" + esc(r.method) + "</td>" +
        r.values.map(function (v, c) { return "<td>" + fmt(v, s.metrics[c]) + "</td>"; }).join("") + "</tr>";
    }).join("");
    $("all-table").innerHTML = "<table class=\"results\"><caption>" + esc(s.label) + ": " + rows.length +
      " rows (click a header to sort, an image to show it)</caption><thead><tr>" + head + "</tr></thead><tbody>" +
      body + "</tbody></table>";
    Array.prototype.forEach.call($("all-table").querySelectorAll("th.sortable"), function (th) {
      th.addEventListener("click", function () {
        var col = parseInt(th.getAttribute("data-col"), 10);
        st.sort = {col: col, dir: st.sort && st.sort.col === col ? -st.sort.dir : 1};
        allTable();
      });
    });
    Array.prototype.forEach.call($("all-table").querySelectorAll("td.img"), function (td) {
      td.addEventListener("click", function () {
        select(st.set, parseInt(td.getAttribute("data-i"), 10));
        window.scrollTo(0, 0);
      });
    });
  }

  // --------------------------------------------------------------------------------- #check: load every image
  function checkAll() {
    var urls = [];
    DATA.sets.forEach(function (s) {
      s.images.forEach(function (im) {
        s.panels.forEach(function (p) { urls.push(im.src[p.key] ? im.src[p.key][0] : "missing:" + s.dataset + "/" + p.key + "/" + im.name); });
      });
    });
    var box = $("gallery-check"), left = urls.length, ok = 0, bad = [];
    var done = function () {
      box.setAttribute("data-total", String(urls.length));
      box.setAttribute("data-loaded", String(ok));
      box.setAttribute("data-failed", String(bad.length));
      box.innerHTML = "check: " + ok + "/" + urls.length + " images loaded" +
        (bad.length ? "<ul>" + bad.map(function (u) { return "<li class=\"missing\">" + esc(u) + "</li>"; }).join("") + "</ul>" : "");
      if (!left) box.setAttribute("data-state", "done");
    };
    if (!left) done();
    urls.forEach(function (u) {
      if (u.indexOf("missing:") === 0) { bad.push(u); left -= 1; done(); return; }
      var img = new Image();
      img.onload = function () { ok += 1; left -= 1; done(); };
      img.onerror = function () { bad.push(u); left -= 1; done(); };
      img.src = u;
    });
  }

  // --------------------------------------------------------------------------------- start
  fillSets();
  $("ds").addEventListener("change", function () { select(parseInt($("ds").value, 10), 0); });
  $("img").addEventListener("change", function () { select(st.set, parseInt($("img").value, 10)); });
  $("prev").addEventListener("click", function () { select(st.set, st.img - 1); });
  $("next").addEventListener("click", function () { select(st.set, st.img + 1); });
  $("fit").addEventListener("click", fit);
  $("one").addEventListener("click", oneToOne);
  $("cols").addEventListener("change", function () { show(false); });
  $("all").addEventListener("toggle", function () { if ($("all").open) allTable(); });
  document.addEventListener("keydown", function (e) {
    if (e.target && /^(SELECT|INPUT)$/.test(e.target.tagName)) return;
    if (e.key === "ArrowLeft") select(st.set, st.img - 1);
    else if (e.key === "ArrowRight") select(st.set, st.img + 1);
    else if (e.key === "0") fit();
    else if (e.key === "1") oneToOne();
  });
  window.addEventListener("resize", function () { show(true); });
  var q = params();
  var si = DATA.sets.map(function (s) { return s.dataset; }).indexOf(q.ds);
  st.set = Math.max(0, si);
  fillSet();
  var ii = cur().images.map(function (im) { return im.name; }).indexOf(q.img);
  st.img = Math.max(0, ii);
  show(false);
  if (q.zoom && image()) {  // #...&zoom=4&at=120,80: 400% centred on that HR pixel (a reproducible close-up)
    var at = (q.at || "").split(",").map(Number), c = st.canvas;
    var cx = at.length === 2 && isFinite(at[0]) ? at[0] : c[0] / 2, cy = at.length === 2 && isFinite(at[1]) ? at[1] : c[1] / 2;
    st.s = Math.min(64, Math.max(st.fit / 4, parseFloat(q.zoom) || 1));
    st.tx = st.pw / 2 - cx * st.s;
    st.ty = st.ph / 2 - cy * st.s;
    apply();
  }
  if ("check" in q) checkAll();
})();
"""


def _script_json(data: dict[str, Any]) -> str:
    """JSON safe inside <script>: no '</' can close the element."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def render_gallery(g: Gallery, base: str | Path) -> str:
    """The gallery page; image URLs are relative to `base`, the folder the page is written to."""
    from lgcaa.report.style import CSS as REPORT_CSS

    e = html.escape
    title = f"LGCAA per-image gallery — {e(g.profile)} profile"
    n_images = sum(len(s.images) for s in g.sets)
    banner = "" if g.comparable else (
        f'<div class="banner"><b>{e(g.profile)} profile — not comparable to the paper.</b> Reduced setting: these '
        "images check the pipeline, not the paper's claims.</div>")
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{title}</title>",
        f"<style>{REPORT_CSS}{CSS}</style></head><body>",
        f"<h1>{title}</h1>",
        banner,
        (f'<p class="note">{len(g.sets)} dataset(s), {n_images} test images, every method at full resolution. '
         "Wheel: zoom at the pointer · drag: pan · double-click or 0: fit · 1: 1:1 pixels · ←/→: previous/next "
         "image. Every panel follows the same view; LR is drawn on the HR's pixel grid, nearest-neighbour. "
         "The images are read from the results and data folders by relative paths: keep this file in its place.</p>"),
        ('<noscript><p class="missing">The viewer needs JavaScript; the images are under the results\' sr/ and the '
         "data folders.</p></noscript>"),
        '<div id="bar"><span class="grp"><label>dataset <select id="ds"></select></label></span>'
        '<span class="grp"><button id="prev" title="previous image (←)">◀</button> <select id="img"></select> '
        '<button id="next" title="next image (→)">▶</button></span>'
        '<span class="grp"><button id="fit" title="fit (0)">fit</button> <button id="one" title="1:1 (1)">1:1</button> '
        'zoom <span id="zoom">100%</span></span>'
        '<span class="grp"><label>panels per row <select id="cols">'
        + "".join(f'<option{" selected" if n == 4 else ""}>{n}</option>' for n in range(1, 9))
        + "</select></label></span>"
        '<span id="methods"></span></div>',
        '<div id="panels"></div>',
        '<p id="gallery-status" data-state="loading">gallery loading (needs JavaScript)</p>',
        '<div id="gallery-check"></div>',
        '<h2 id="scores-heading">Scores of this image</h2>',
        '<div id="scores"></div>',
        '<ul class="note" id="notes"></ul>',
        ('<details id="all"><summary>All images × methods × metrics of this dataset (sortable)</summary>'
         '<div id="all-table"></div></details>'),
        f'<script type="application/json" id="gallery-data">{_script_json(gallery_data(g, base))}</script>',
        f"<script>{JS}</script>",
        "</body></html>",
    ]) + "\n"


def write_gallery(cfg: dict[str, Any]) -> tuple[Path, int]:
    """Collect and write the profile's gallery at `Layout.gallery_html` (atomically); (its path, image count)."""
    from lgcaa.io import write_text
    from lgcaa.layout import Layout

    out = Path(Layout.of(cfg).gallery_html())
    g = collect_gallery(cfg)
    write_text(out, render_gallery(g, out.parent))
    return out, sum(len(s.images) for s in g.sets)
