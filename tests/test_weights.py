"""The weights manifest and manager (fetch / resume / checksum / offline), against a loopback HTTP server."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from loopback import LoopbackFiles

from lgcaa.weights import manager
from lgcaa.weights.manifest import BY_DEST, FILES, WeightFile, name_hash_prefix


@pytest.fixture()
def tmp_hub(tmp_path, monkeypatch):
    """torch.hub.get_dir() -> a temporary folder (restored after); network env cleared."""
    import torch

    before = torch.hub.get_dir()
    hub = tmp_path / "hub"
    torch.hub.set_dir(str(hub))
    for k in ("HF_HUB_OFFLINE", "LGCAA_OFFLINE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setattr("lgcaa.download.time.sleep", lambda s: None)
    yield hub
    torch.hub.set_dir(before)


@pytest.fixture()
def server():
    with LoopbackFiles() as srv:
        yield srv


def _wf(dest: str, urls: tuple[str, ...], data: bytes | None, pinned: bool = True, size: bool = True) -> WeightFile:
    sha = hashlib.sha256(data).hexdigest() if (data is not None and pinned) else None
    return WeightFile(dest, urls, sha, len(data) if (data is not None and size) else None, ("lpips",), "test")


# --- manifest ------------------------------------------------------------------------------------------


def test_manifest_matches_registry_and_is_well_formed():
    from lgcaa.metrics.registry import METRICS

    assert len({f.dest for f in FILES}) == len(FILES)
    users = {u for f in FILES for u in f.used_by}
    assert users <= {*METRICS, "model"}, "a weight file used by no metric"
    assert METRICS["lpips"].weights == ("checkpoints/alexnet-owt-7be5be79.pth", "pyiqa/LPIPS_v0.1_alex-df73285e.pth")
    for spec in METRICS.values():
        assert set(spec.generated_offline) <= set(spec.weights)
        assert all(BY_DEST[w].offline for w in spec.generated_offline)
    for f in FILES:
        assert f.urls and all(u.startswith("https://") for u in f.urls), f.dest
        assert f.dest.split("/")[0] in ("checkpoints", "pyiqa", "clip"), f.dest
        if f.sha256 is not None:
            assert len(f.sha256) == 64 and int(f.sha256, 16) >= 0, f.dest
            prefix = name_hash_prefix(f.name)
            assert prefix is None or f.sha256.startswith(prefix), f.dest
            assert f.sha256 in f.urls[0] or prefix is not None or "RN50" in f.name
        else:
            assert "UNPINNED" in f.note or f.offline, f.dest
    # torchvision's own URLs carry the same prefix as our pins
    import torchvision.models as tvm

    assert tvm.AlexNet_Weights.IMAGENET1K_V1.url.endswith(BY_DEST["checkpoints/alexnet-owt-7be5be79.pth"].name)
    assert tvm.VGG16_Weights.IMAGENET1K_V1.url.endswith(BY_DEST["checkpoints/vgg16-397923af.pth"].name)


def test_manifest_urls_are_pyiqas_own():
    """The pyiqa file names and the CLIP URL are exactly the ones the installed pyiqa would download."""
    import pyiqa.archs.dists_arch as dists
    import pyiqa.archs.lpips_arch as lpips
    import pyiqa.archs.maniqa_arch as maniqa
    import pyiqa.archs.musiq_arch as musiq
    from pyiqa.archs import clip_model, inception

    wanted = {lpips.default_model_urls["0.1_alex"], dists.default_model_urls["url"], inception.FID_WEIGHTS_URL,
              musiq.default_model_urls["koniq10k"], maniqa.default_model_urls["pipal"], clip_model._MODELS["RN50"]}
    ours = {u for f in FILES for u in f.urls}
    assert wanted <= ours


# --- manager against a loopback server ---------------------------------------------------------------------


def test_fetch_pinned_verifies_and_is_idempotent(tmp_hub, server):
    data = os.urandom(300_000)
    server.files["/w.pth"] = data
    f = _wf("pyiqa/w-00000000.pth", (server.url("/w.pth"),), data)
    s = manager.fetch(f, tmp_hub)
    assert s.state == manager.OK and (tmp_hub / f.dest).read_bytes() == data
    n = len(server.paths())
    assert manager.fetch(f, tmp_hub).state == manager.OK and len(server.paths()) == n  # present: no request
    assert manager.inspect(f, tmp_hub, deep=True).state == manager.OK


def test_fetch_resumes_a_cut_transfer(tmp_hub, server):
    data = os.urandom(2_500_000)
    server.files["/big.pth"] = data
    server.cuts["/big.pth"] = [1_000_000]
    f = _wf("checkpoints/big.pth", (server.url("/big.pth"),), data)
    assert manager.fetch(f, tmp_hub, retries=2).state == manager.OK
    assert server.paths() == ["/big.pth", "/big.pth"] and (tmp_hub / f.dest).read_bytes() == data


def test_bad_checksum_names_file_and_digests_and_falls_back_to_next_mirror(tmp_hub, server):
    good, evil = os.urandom(50_000), os.urandom(50_000)
    server.files["/evil.pth"], server.files["/good.pth"] = evil, good
    f = _wf("pyiqa/m.pth", (server.url("/evil.pth"),), good)
    s = manager.fetch(f, tmp_hub)
    assert s.state == manager.MISSING
    assert f.sha256 in s.detail and hashlib.sha256(evil).hexdigest() in s.detail and "sha256 mismatch" in s.detail
    assert not (tmp_hub / f.dest).exists() and not list(tmp_hub.rglob("*.part"))
    f2 = _wf("pyiqa/m.pth", (server.url("/evil.pth"), server.url("/missing.pth"), server.url("/good.pth")), good)
    s2 = manager.fetch(f2, tmp_hub)
    assert s2.state == manager.OK and "good.pth" in s2.detail and server.paths()[-2:] == ["/missing.pth", "/good.pth"]


def test_unpinned_is_recorded_then_verified(tmp_hub, server):
    data = os.urandom(40_000)
    server.files["/u.pth"] = data
    f = _wf("pyiqa/u.pth", (server.url("/u.pth"),), data, pinned=False)
    s = manager.fetch(f, tmp_hub)
    digest = hashlib.sha256(data).hexdigest()
    assert s.state == manager.OK and digest in s.warning and "no published sha256" in s.warning
    lock = json.loads((tmp_hub / manager.LOCK_NAME).read_text())
    assert lock["files"]["pyiqa/u.pth"]["sha256"] == digest
    assert manager.inspect(f, tmp_hub, deep=True).detail == "sha256 matches the local record"
    (tmp_hub / f.dest).write_bytes(os.urandom(40_000))  # swapped behind our back
    bad = manager.inspect(f, tmp_hub, deep=True)
    assert bad.state == manager.CORRUPT and str(tmp_hub / f.dest) in bad.detail and "local record" in bad.detail


def test_unpinned_with_hash_prefix_in_name_must_match_it(tmp_hub, server):
    data = os.urandom(1000)
    server.files["/x.pth"] = data
    f = _wf("pyiqa/X-deadbeef.pth", (server.url("/x.pth"),), data, pinned=False)
    s = manager.fetch(f, tmp_hub)
    assert s.state == manager.CORRUPT and "hash prefix in its name" in s.detail


def test_offline_reports_exactly_what_is_missing_without_requests(tmp_hub, server, monkeypatch):
    server.files["/w.pth"] = b"x" * 100
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    f = _wf("pyiqa/w.pth", (server.url("/w.pth"),), b"x" * 100)
    s = manager.fetch(f, tmp_hub)
    assert s.state == manager.MISSING and "offline" in s.detail and str(tmp_hub / f.dest) in s.detail
    assert server.paths() == []


def test_offline_producers(tmp_hub, monkeypatch):
    monkeypatch.setenv("LGCAA_OFFLINE", "1")
    niqe = BY_DEST["pyiqa/niqe_modelparameters.mat"]
    assert manager.fetch(niqe, tmp_hub).state == manager.OK
    (tmp_hub / niqe.dest).write_bytes(b"garbage")
    assert manager.inspect(niqe, tmp_hub, deep=True).state == manager.CORRUPT
    assert manager.fetch(niqe, tmp_hub).state == manager.OK  # regenerated
    heads = BY_DEST["pyiqa/LPIPS_v0.1_alex-df73285e.pth"]
    s = manager.fetch(heads, tmp_hub)
    assert s.state == manager.OK and s.sha256 == heads.sha256 and "lpips" in s.detail


def test_cli_lists_and_fails_cleanly_per_file_offline(tmp_hub, monkeypatch, capsys):
    from lgcaa.cli import main

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert main(["weights", "fetch", "niqe", "lpips"]) == 1
    out, err = capsys.readouterr()
    assert "ok         pyiqa/niqe_modelparameters.mat" in out
    assert f"missing  {tmp_hub / 'checkpoints/alexnet-owt-7be5be79.pth'}" in err
    assert "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth" in err
    assert main(["weights", "list"]) == 0
    out, _ = capsys.readouterr()
    assert "metrics runnable here: psnr, ssim, niqe;" in out
    assert main(["weights", "verify", "niqe"]) == 0
    assert main(["weights", "list", "nosuch"]) == 2
    capsys.readouterr()
    assert main(["weights", "list", "--json", "maniqa"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["files"][0]["pinned"] is False and listed["metrics"]["maniqa"]


def test_evaluator_reports_missing_weights_and_never_downloads(tmp_hub, monkeypatch):
    """With an empty hub, LPIPS is reported missing (naming the file) and is not built; creating the pyiqa model
    past that check is refused with the URL that pyiqa/torchvision would have downloaded."""
    from lgcaa.errors import UserError
    from lgcaa.metrics.availability import missing_reason
    from lgcaa.metrics.build import UnmanagedDownload, _create, build_metric
    from lgcaa.metrics.registry import get

    why = missing_reason(get("lpips"))
    assert why is not None and str(tmp_hub / "checkpoints/alexnet-owt-7be5be79.pth") in why["reason"]
    assert (tmp_hub / "pyiqa/LPIPS_v0.1_alex-df73285e.pth").is_file()  # heads made offline on the way
    with pytest.raises(UserError, match=r"lpips cannot be built: weights absent: .*alexnet-owt-7be5be79\.pth"):
        build_metric("lpips", "cpu")
    with pytest.raises(UnmanagedDownload, match=r"alexnet-owt-7be5be79\.pth.*not in the weights manifest"):
        _create("lpips", "cpu")
    assert not list(Path(tmp_hub).rglob("alexnet*"))


def test_report_lines_and_what_counts_as_unusable_per_action(tmp_path):
    from lgcaa.weights import report
    from lgcaa.weights.manifest import CACHE, EXTERNAL, NOT_NEEDED

    f = _wf("pyiqa/x-0123abcd.pth", ("https://example.org/x.pth",), b"x")
    states = [manager.FileState(f, tmp_path / f.dest, st, "why") for st in
              (manager.MISSING, manager.CORRUPT, manager.UNRECORDED, manager.OK, manager.PRESENT)]
    assert [s.state for s in report.unusable(states, "list")] == ["missing", "corrupt"]  # list hashes nothing
    for action in ("fetch", "verify"):
        assert [s.state for s in report.unusable(states, action)] == ["missing", "corrupt", "unrecorded"]
    lines = report.unusable_lines(states[:2], 5)
    assert lines[0] == "\n2 of 5 files not usable; put each at its path (then `lgcaa weights verify`):"
    assert lines[1] == f"  missing  {tmp_path / f.dest}\n           <- https://example.org/x.pth" and len(lines) == 3
    assert report.state_line(states[3]) == (f"ok         {f.dest:45s} sha256 {f.sha256[:12]}… used by lpips"
                                            "\n           why")
    unpinned = _wf("pyiqa/y.pth", ("https://example.org/y.pth",), b"y", pinned=False)
    assert report.state_line(manager.FileState(unpinned, tmp_path, manager.MISSING, "absent")) == (
        f"missing    {'pyiqa/y.pth':45s} sha256 UNPINNED      used by lpips")  # the state says it all
    footer = report.footer_lines(tmp_path, {"psnr": [], "lpips": ["a.pth"], "niqe": []})
    assert footer[:2] == [f"\nhub: {tmp_path}", ("metrics runnable here: psnr, niqe; missing weights: lpips "
                                                  "(fix: lgcaa weights fetch METRIC)")]
    assert len(footer) == 2 + len(NOT_NEEDED) + len(EXTERNAL)
    assert report.footer_lines(tmp_path, {"lpips": ["a"]})[1].startswith("metrics runnable here: none; missing weights: lpips")
    assert report.shows_hub([f]) and not report.shows_hub([WeightFile("a", ("u",), None, None, ("m",), "", root=CACHE)])
    assert json.loads(report.states_json(tmp_path, states[:1], {"lpips": ["a"]})) == {
        "hub": str(tmp_path), "files": [states[0].as_dict()], "metrics": {"lpips": ["a"]}}
