"""`lgcaa ui`: MLflow and the report on one port; the report's links are relative to it and open a run that exists;
an evaluation's MLflow run shows a capped sample of its SR outputs. A real server on loopback (a subprocess of the
CLI), real MLflow, real sqlite."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from PIL import Image


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@pytest.fixture
def synced(tmp_path, monkeypatch):
    """A project folder with a results tree: 6 SR outputs scored by `lgcaa eval` (psnr, record), synced into
    results/mlflow.db, its links (`lgcaa report links`, relative) and a report page that uses them."""
    from lgcaa.cli import main

    monkeypatch.chdir(tmp_path)
    for sub, side in (("hr", 16), ("sr", 16)):
        Path(sub).mkdir()
        for i in range(6):
            Image.new("RGB", (side, side), (i * 40, 20 if sub == "sr" else 0, 0)).save(f"{sub}/{i:03d}.png")
    record = "results/metrics/ds/m/run.json"
    assert main(["eval", "sr", "hr", "--metrics", "psnr", "--out", "results/metrics/ds/m", "--dataset", "ds",
                 "--method", "m", "--record", record, "--experiment", "t/eval"]) == 0
    assert json.loads(Path(record).read_text())["folders"] == {"sr": [f"sr/{i:03d}.png" for i in range(4)]}
    assert main(["mlflow-sync", record, "--results", "results", "--out", "results/mlflow/runs.json"]) == 0
    assert main(["report", "links", "--runs", "results/mlflow/runs.json", "--out", "results/mlflow/links.json"]) == 0
    link = json.loads(Path("results/mlflow/links.json").read_text())[record]
    for folder in ("data/ds/hr", "results/sr/ds/m"):  # where the gallery's images live (../../data, ../sr)
        Path(folder).mkdir(parents=True)
        (Path(folder) / "000.png").write_bytes(Path("sr/000.png").read_bytes())
    Path("results/report").mkdir(parents=True)
    Path("results/report/index.html").write_text(f'<html><body><a id="n" href="{link}">24.0</a></body></html>\n')
    return tmp_path, record, link


def test_eval_run_shows_the_first_sr_outputs_capped(synced):
    from mlflow.tracking import MlflowClient

    from lgcaa.mlflow_store import artifact_repo, tracking_uri

    root, record, _ = synced
    rid = json.loads((root / "results/mlflow/runs.json").read_text())["runs"][record]
    run = MlflowClient(tracking_uri(root / "results")).get_run(rid)
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/t/eval/")  # proxied: relative to the artifact root
    files = [a.path for a in artifact_repo(root / "results", run.info.artifact_uri).list_artifacts("sr")]
    assert files == [f"sr/{i:03d}.png" for i in range(4)]  # 4 of the 6, the first by name
    logged = root / "results/mlflow-artifacts/t/eval" / rid / "artifacts/sr/000.png"
    assert logged.read_bytes() == (root / "sr/000.png").read_bytes()


def test_lgcaa_ui_serves_mlflow_and_the_report_on_one_port(synced):
    root, _, link = synced
    assert link.startswith("../#/experiments/") and link.endswith("?workflowType=machine_learning")  # relative
    port = _free_port()
    log = root / "ui.log"
    with log.open("w") as out:  # a file, not a pipe: a full pipe would block the server
        proc = subprocess.Popen([sys.executable, "-m", "lgcaa", "ui", "--results", "results", "--port", str(port)],
                                cwd=root, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if _get(f"{base}/health")[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"lgcaa ui did not start: rc {proc.poll()}\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        status, page = _get(f"{base}/report/")
        assert status == 200 and f'href="{link}"' in page.decode()
        status, body = _get(f"{base}/")  # MLflow's own UI at the root
        assert status == 200 and b"<html" in body.lower()
        # the report's link, resolved as a browser does against the page, is MLflow's run page on this server
        target = urlsplit(urljoin(f"{base}/report/index.html", link))
        assert f"{target.scheme}://{target.netloc}{target.path}" == f"{base}/"
        route, _, query = target.fragment.partition("?")
        _, _, exp_id, _, rid = route.split("/")
        assert parse_qs(query) == {"workflowType": ["machine_learning"]}  # the tracking view, not GenAI
        status, body = _get(f"{base}/api/2.0/mlflow/runs/get?run_id={rid}")
        assert status == 200, body[:500]
        run = json.loads(body)["run"]
        assert run["info"]["experiment_id"] == exp_id and run["info"]["run_name"] == "eval:m:ds"
        status, body = _get(f"{base}/api/2.0/mlflow/experiments/search?max_results=10")
        exps = {e["name"]: e for e in json.loads(body)["experiments"]}
        assert status == 200 and exps["t/eval"]["experiment_id"] == exp_id
        tags = {t["key"]: t["value"] for t in exps["t/eval"]["tags"]}
        assert tags["mlflow.experimentKind"] == "custom_model_development"
        # the run's files, as the UI's artifact view asks for them: the capped SR sample, served from the store
        status, body = _get(f"{base}/ajax-api/2.0/mlflow/artifacts/list?run_id={rid}&path=sr")
        assert status == 200 and len(json.loads(body)["files"]) == 4, body[:500]
        status, body = _get(f"{base}/get-artifact?path=sr/001.png&run_uuid={rid}")
        assert status == 200 and body == (root / "sr/001.png").read_bytes()
        for img in ("../sr/ds/m/000.png", "../../data/ds/hr/000.png"):  # as the gallery names them
            status, body = _get(urljoin(f"{base}/report/gallery.html", img))
            assert status == 200 and body == (root / "sr/000.png").read_bytes(), img
        assert _get(f"{base}/mlflow.db")[0] == 404  # the database is not among the served folders
        assert _get(f"{base}/mlflow/runs.json")[0] == 404
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


def test_ui_refuses_a_folder_without_a_store(tmp_path, capsys):
    from lgcaa.cli import main

    assert main(["ui", "--results", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nowhere/mlflow.db: no MLflow store here" in err


def test_relative_links_are_the_only_non_http_links_accepted():
    from lgcaa.errors import UserError
    from lgcaa.report.links import check_link, run_url

    rel = run_url("", "3", "0123abcd")
    assert rel == "../#/experiments/3/runs/0123abcd?workflowType=machine_learning" and check_link(rel, "x") == rel
    assert run_url("http://h:8080/", "3", "ab").startswith("http://h:8080/#/experiments/3/runs/ab?")
    for bad in ("javascript:alert(1)", "../#/experiments/3/runs/x\"onclick=1", "../../#/experiments/3/runs/ab",
                "/#/experiments/3/runs/ab"):
        with pytest.raises(UserError, match="is not an http"):
            check_link(bad, "links.json")
