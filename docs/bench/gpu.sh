#!/usr/bin/env bash
# Every GPU benchmark of issue 16 in one call, offline, in a few minutes. Writes one combined JSON
# (gpu-bench.json: environment + every bench's JSON) and one log into docs/bench/runs/<stamp>/ and, when the
# device tool's $OUT is set, into $OUT (which comes back).
#
#   bash docs/bench/gpu.sh                      # on the GPU machine (device cuda, bf16, SD2-base shapes)
#   bash docs/bench/gpu.sh --device cpu --tiny  # dry run of every step at toy sizes (CPU, ~15 min on 2 loaded cores)
#   bash docs/bench/gpu.sh --print              # list the commands only
#   bash docs/bench/gpu.sh --fetch-wheels       # where PyPI is reachable: download the missing packages into .whl/
#
# The GPU machine has no internet. Its python3 holds torch, transformers, timm, scikit-image, scikit-learn,
# scipy, accelerate (docs/bench/README.md); what the harness needs beyond that travels as wheels in .whl/
# (`--fetch-wheels` here, then the device call carries ".whl"); this script installs them into /tmp/site
# first. Benches run in priority order under one deadline (DEADLINE_S, default 540 s; 2400 s with --tiny); a bench that would
# start after it is recorded as skipped, a bench that fails is recorded with its exit code and log tail.
# Clamp-bound measurement with real weights: set SD2_BASE (diffusers folder) and DINO (ViT folder) to local
# copies; otherwise the activations bench measures the SD2-base-shaped model at random init. The same two
# variables give the prior bench (step-0 ε-MSE of each LGCAA variant / standard, model.norm_init unit vs
# pretrained) the real weights; without them it measures the random-init model, which has no prior to keep.
set -u -o pipefail

DEVICE=cuda
TINY=0
PRINT=0
FETCH=0
while [ $# -gt 0 ]; do
  case "$1" in
    --device) DEVICE="$2"; shift 2 ;;
    --tiny) TINY=1; shift ;;
    --print) PRINT=1; shift ;;
    --fetch-wheels) FETCH=1; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "gpu.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT" || exit 2
WHEELS="$ROOT/docs/bench/gpu-wheels.txt"

if [ "$FETCH" = 1 ]; then
  # Python 3.12 x86-64 manylinux wheels, no dependencies resolved: the list names every missing package.
  mkdir -p .whl
  grep -v '^#' "$WHEELS" | grep -v '^$' | while read -r req; do
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
      --platform any -d .whl "$req" || echo "gpu.sh: could not download $req" >&2
  done
  grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
  du -sh .whl
  exit 0
fi

PY="${PYTHON:-python3}"
if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1 && [ "$PRINT" = 0 ]; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || { echo "gpu.sh: installing .whl failed" >&2; exit 2; }
  export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
DEST="$ROOT/docs/bench/runs/$STAMP"
DEADLINE_S="${DEADLINE_S:-$([ "$TINY" = 1 ] && echo 2400 || echo 540)}"  # CPU dry run: FID's sqrtm is slow
START=$(date +%s)

# name|arguments of `lgcaa bench`, in priority order
if [ "$TINY" = 1 ]; then
  DT=fp32
  BENCHES=(
    "attention-256x64-b1|attention --device $DEVICE --dtype $DT --tokens 256 --channels 64 --heads 2 --batch 1 --window 4 --repeat 3 --warmup 1 --modes checkpointing,no-checkpointing"
    "attention-64x128-b2|attention --device $DEVICE --dtype $DT --tokens 64 --channels 128 --heads 2 --batch 2 --window 4 --repeat 3 --warmup 1 --modes checkpointing,no-checkpointing"
    "train-step-tiny|train-step --arch tiny --device $DEVICE --precision $DT --batch 1 --size 64 --steps 2 --warmup 1"
    "train-step-tiny-no-attention-checkpointing|train-step --arch tiny --device $DEVICE --precision $DT --batch 1 --size 64 --steps 2 --warmup 1 --no-attention-checkpointing"
    "sample-tiny|sample --arch tiny --device $DEVICE --precision $DT --steps 2 --size 64 --repeat 1"
    "metrics-random-init|metrics --device $DEVICE --random-init --size 128 --n-images 2 --repeat 1 --no-references"
    "activations-tiny|activations --arch tiny --device $DEVICE --photos astronaut,coffee --size 64 --timesteps 500"
    "prior-tiny|prior --arch tiny --device $DEVICE --size 64 --window 4 --variants lgcaa --timesteps 300,700"
    "attention-256x64-b1-compile|attention --device $DEVICE --dtype $DT --tokens 256 --channels 64 --heads 2 --batch 1 --window 4 --repeat 2 --warmup 1 --modes compile"
  )
else
  DT=bf16
  ACT_WEIGHTS=""
  if [ -n "${SD2_BASE:-}" ] && [ -n "${DINO:-}" ]; then ACT_WEIGHTS="--pretrained $SD2_BASE --dino $DINO"; fi
  BENCHES=(
    "attention-4096x320-b1|attention --device $DEVICE --dtype $DT --tokens 4096 --channels 320 --heads 5 --batch 1 --repeat 20 --warmup 3 --modes checkpointing,no-checkpointing"
    "attention-4096x320-b8|attention --device $DEVICE --dtype $DT --tokens 4096 --channels 320 --heads 5 --batch 8 --repeat 20 --warmup 3 --modes checkpointing,no-checkpointing"
    "attention-1024x640-b1|attention --device $DEVICE --dtype $DT --tokens 1024 --channels 640 --heads 10 --batch 1 --repeat 20 --warmup 3 --modes checkpointing,no-checkpointing"
    "attention-1024x640-b8|attention --device $DEVICE --dtype $DT --tokens 1024 --channels 640 --heads 10 --batch 8 --repeat 20 --warmup 3 --modes checkpointing,no-checkpointing"
    "train-step-sd2base-b8|train-step --arch sd2-base --device $DEVICE --precision $DT --batch 8 --steps 5 --warmup 2"
    "sample-sd2base-512-40|sample --arch sd2-base --device $DEVICE --precision $DT --steps 40 --size 512 --repeat 2"
    "sample-sd2base-512-40-tile256|sample --arch sd2-base --device $DEVICE --precision $DT --steps 40 --size 512 --repeat 2 --tile 256"
    "metrics-random-init-512|metrics --device $DEVICE --random-init --size 512 --n-images 16 --repeat 2 --no-references"
    "activations-sd2base|activations --arch sd2-base --device $DEVICE --precision fp32 $ACT_WEIGHTS"
    "prior-sd2base|prior --arch sd2-base --device $DEVICE --size 256 $ACT_WEIGHTS"
    "train-step-sd2base-b8-no-attention-checkpointing|train-step --arch sd2-base --device $DEVICE --precision $DT --batch 8 --steps 5 --warmup 2 --no-attention-checkpointing"
    "attention-4096x320-b1-compile|attention --device $DEVICE --dtype $DT --tokens 4096 --channels 320 --heads 5 --batch 1 --repeat 20 --warmup 3 --modes compile,compile-no-checkpointing"
    "attention-4096x320-b8-compile|attention --device $DEVICE --dtype $DT --tokens 4096 --channels 320 --heads 5 --batch 8 --repeat 20 --warmup 3 --modes compile,compile-no-checkpointing"
    "train-step-sd2base-b8-compile|train-step --arch sd2-base --device $DEVICE --precision $DT --batch 8 --steps 5 --warmup 2 --compile-attention"
  )
fi

if [ "$PRINT" = 1 ]; then
  for b in "${BENCHES[@]}"; do echo "${b%%|*}: $PY -m lgcaa bench ${b#*|}"; done
  exit 0
fi

mkdir -p "$DEST/parts"
LOG="$DEST/gpu-bench.log"
{
  echo "gpu.sh $STAMP device=$DEVICE tiny=$TINY deadline=${DEADLINE_S}s"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | head -3
  "$PY" -c "import sys, torch; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda)"
} > "$LOG" 2>&1

for b in "${BENCHES[@]}"; do
  name="${b%%|*}"; args="${b#*|}"
  now=$(date +%s); left=$(( START + DEADLINE_S - now ))
  if [ "$left" -le 20 ]; then
    echo "{\"skipped\": \"deadline: ${DEADLINE_S}s reached\", \"command\": \"lgcaa bench $args\"}" > "$DEST/parts/$name.json"
    echo "== $name skipped (deadline)" >> "$LOG"
    continue
  fi
  echo "== $name: lgcaa bench $args (limit ${left}s)" >> "$LOG"
  t0=$(date +%s)
  # shellcheck disable=SC2086
  timeout -s KILL "$left" "$PY" -m lgcaa bench $args > "$DEST/parts/$name.out" 2> "$DEST/parts/$name.err"
  rc=$?
  echo "   rc=$rc in $(( $(date +%s) - t0 ))s" >> "$LOG"
  tail -n 5 "$DEST/parts/$name.err" >> "$LOG"
  "$PY" - "$DEST/parts/$name" "$rc" "lgcaa bench $args" <<'EOF'
import json, sys
stem, rc, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3]
text = open(stem + ".out").read()
try:
    result = json.loads(text[text.index("{"):]) if rc == 0 else None
except ValueError:
    result = None
if result is None:
    err = open(stem + ".err").read()[-2000:]
    result = {"failed": rc or "no JSON on stdout", "stderr_tail": err}
result["command"] = cmd
json.dump(result, open(stem + ".json", "w"), indent=2, sort_keys=True)
EOF
done

"$PY" - "$DEST" "$DEVICE" "$TINY" "$STAMP" <<'EOF'
import json, pathlib, platform, subprocess, sys
dest, device, tiny, stamp = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "1", sys.argv[4]
env = {"stamp": stamp, "device": device, "tiny": tiny, "python": platform.python_version()}
try:
    import torch
    env["torch"] = torch.__version__
    env["cuda"] = torch.version.cuda
    if torch.cuda.is_available():
        env["gpu"] = torch.cuda.get_device_name(0)
except Exception as exc:  # noqa: BLE001  (record, do not fail the summary)
    env["torch"] = f"unavailable: {exc}"
try:
    smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                         capture_output=True, text=True, timeout=30)
    env["nvidia_smi"] = smi.stdout.strip()
except (OSError, subprocess.SubprocessError):
    env["nvidia_smi"] = None
from importlib import metadata
for pkg in ("diffusers", "transformers", "pyiqa", "lpips", "timm", "accelerate"):
    try:
        env[pkg] = metadata.version(pkg)
    except metadata.PackageNotFoundError:
        env[pkg] = None
parts = {p.stem: json.loads(p.read_text()) for p in sorted((dest / "parts").glob("*.json"))}
summary = {}
for name, r in parts.items():
    keys = ("ratio", "ratio_vs_standard", "memory_ratio_vs_standard", "images_per_second",
            "images_per_second_ratio", "overhead", "recommended_clamp", "meets_goal", "meets_goal_vs_standard",
            "over_goal_by", "skipped", "failed")
    summary[name] = {k: r[k] for k in keys if k in r}
    if "modes" in r:
        summary[name]["modes"] = {m: {"ratio": v["ratio"], "numerics_ok": v["numerics"]["ok"]} for m, v in r["modes"].items()}
out = {"env": env, "summary": summary, "benches": parts}
(dest / "gpu-bench.json").write_text(json.dumps(out, indent=2, sort_keys=True))
print(json.dumps({"env": env, "summary": summary}, indent=1, sort_keys=True))
EOF

if [ -n "${OUT:-}" ]; then
  cp "$DEST/gpu-bench.json" "$DEST/gpu-bench.log" "$OUT/"
fi
echo "gpu.sh: wrote $DEST/gpu-bench.json"
