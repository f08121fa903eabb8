"""`lgcaa ui`: MLflow and the report on one port (one process).

MLflow's own server app (`mlflow.server.fastapi_app`, the app `mlflow server` runs) serves the store
`<results>/mlflow.db` at the root, with `<results>/mlflow-artifacts` as the artifact root its runs' proxied
locations (`mlflow-artifacts:/...`, `lgcaa.mlflow_store.experiment_location`) resolve against; the results
folders in `SERVED` (the report, the tables, the figures, the claims, the SR outputs) are served one level below
the root (`/report/`, `/tables/`, ...), and the datasets folder at `/<its path>/` — never the database. The
gallery (`<results>/report/gallery.html`) finds its images there: it names them by paths relative to its folder
(`../sr/...`, `../../data/...`), which the browser resolves to those URLs. A run link relative to a served page
(`lgcaa.report.links.RELATIVE_BASE`: `../#/experiments/...`) therefore opens MLflow's run page on the same server,
whatever its host and port.

Run it from the project folder (where the DAG ran): records' artifact paths and stores made before artifact
locations were proxied are relative to it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lgcaa.errors import UserError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
# results folders served at /<name>/ (one level below MLflow); sr/: the SR outputs the gallery shows
SERVED = ("report", "tables", "figures", "claims", "sr")


def ui_command(results: str | Path, data: str | Path = "data", port: int = DEFAULT_PORT) -> str:
    """The command that serves `results` and the datasets folder `data` (as the user types it, from the project
    folder)."""
    return (f"lgcaa ui --results {Path(results).as_posix()}"
            + (f" --data {Path(data).as_posix()}" if Path(data) != Path("data") else "")
            + (f" --port {port}" if port != DEFAULT_PORT else ""))


def report_url(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> str:
    return f"http://{host}:{port}/report/"


def server_env(results: str | Path) -> dict[str, str]:
    """The settings `mlflow server` hands its app through the environment (mlflow.server.constants): the store,
    the artifact root it proxies, and the default location of an experiment made in the UI."""
    from mlflow.server.constants import (
        ARTIFACT_ROOT_ENV_VAR,
        ARTIFACTS_DESTINATION_ENV_VAR,
        BACKEND_STORE_URI_ENV_VAR,
        SERVE_ARTIFACTS_ENV_VAR,
    )

    from lgcaa.mlflow_store import ARTIFACT_SCHEME, artifact_root, tracking_uri

    results = Path(results).resolve()
    return {BACKEND_STORE_URI_ENV_VAR: tracking_uri(results), SERVE_ARTIFACTS_ENV_VAR: "true",
            ARTIFACTS_DESTINATION_ENV_VAR: Path(artifact_root(results)).as_posix(),
            ARTIFACT_ROOT_ENV_VAR: f"{ARTIFACT_SCHEME}/"}


def build_app(results: str | Path, data: str | Path | None = None) -> Any:
    """MLflow's server app for the store under `results`, with the `SERVED` folders (and the datasets folder
    `data`, at `/<data>/`) mounted before it."""
    results = Path(results)
    if not (results / "mlflow.db").is_file():
        raise UserError(f"{results / 'mlflow.db'}: no MLflow store here; run the DAG first (snakemake --cores 8 "
                        "tables), or give the profile's results folder with --results (e.g. results/real)")
    os.environ.update(server_env(results))  # read by MLflow's app when it is imported and on each request
    from mlflow.server.fastapi_app import create_fastapi_app
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    app = create_fastapi_app()
    # before MLflow's catch-all mount of its Flask app at "/", so these paths are the folders'
    mounts = [Mount(f"/{name}", app=StaticFiles(directory=results / name, html=True), name=f"lgcaa-{name}")
              for name in SERVED if (results / name).is_dir()]
    where = Path(os.path.normpath(data)).as_posix().lstrip("/") if data else ""
    if where and not where.startswith("..") and Path(data).is_dir():
        mounts.append(Mount(f"/{where}", app=StaticFiles(directory=data), name="lgcaa-data"))
    app.router.routes[0:0] = mounts
    return app


def serve(results: str | Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          data: str | Path | None = None) -> None:
    """Serve until interrupted (uvicorn, one worker, in this process)."""
    import uvicorn  # first: MLflow's Flask app turns its server checks (Host header) on when it sees uvicorn

    app = build_app(results, data)
    print(f"MLflow: http://{host}:{port}/  report: {report_url(host, port)}  (Ctrl-C stops)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
