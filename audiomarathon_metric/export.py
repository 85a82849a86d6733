"""Write a self-contained metric folder for a Hugging Face Space / `evaluate.load(<folder>)`.

    python -m audiomarathon_metric.export OUT [--force]

evaluate loads `<folder>/<folder name>.py` and copies only the local modules that script imports
*directly* (one level, relative imports). So the export names the script after OUT (OUT
`audiomarathon` => `evaluate.load("audiomarathon")` locally, and pushed to the Space
`<org>/audiomarathon`, `evaluate.load("<org>/audiomarathon")`), vendors the metric modules and the
core task registry as flat am_*.py files (prefixed so none shadows a stdlib or installed module
when app.py runs from that folder), and rewrites their imports to relative ones.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORE = HERE.parent / "audiomarathon"
SCRIPT = HERE / "audiomarathon_metric.py"
# source file -> vendored module name
VENDORED: dict[Path, str] = {
    CORE / "prompts.py": "am_prompts",
    CORE / "tasks.py": "am_tasks",
    **{HERE / f"{name}.py": f"am_{name}" for name in
       ("accuracy_scoring", "ages", "aggregate", "aggregations", "airbench_rules", "comparison", "display",
        "extraction", "extraction_rules", "long_audio", "mmar_rules", "normalizers", "option_forms", "paper_readers",
        "paper_rules", "paper_scoring", "published", "reply_matchers", "score_inputs", "scoring", "stats")},
}
COPIED = ("README.md", "app.py", "requirements.txt")

_IMPORT = re.compile(r"^(\s*)from\s+(audiomarathon_metric|audiomarathon|)\.(\w+)\s+import\s", re.MULTILINE)


def rewrite_imports(source: str, origin: Path) -> str:
    """`from audiomarathon.tasks import X`, `from audiomarathon_metric.scoring import X` and
    `from .stats import X` -> `from .am_<module> import X`."""

    def sub(m: re.Match) -> str:
        package, module = m.group(2), m.group(3)
        src = (CORE if package == "audiomarathon" else HERE if package else origin.parent) / f"{module}.py"
        if src not in VENDORED:
            raise ValueError(f"{origin.name}: import of {package or '.'}.{module} is not vendored")
        return f"{m.group(1)}from .{VENDORED[src]} import "

    return _IMPORT.sub(sub, source)


def export(out: str | Path, force: bool = False) -> Path:
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not force:
        raise FileExistsError(f"{out} exists and is not empty (use --force to replace it)")
    script = rewrite_imports(SCRIPT.read_text(encoding="utf-8"), SCRIPT)
    missing = [name for name in VENDORED.values() if not re.search(rf"^from \.{name} import ", script, re.MULTILINE)]
    if missing:  # evaluate would not copy them: the loaded metric would fail to import
        raise ValueError(f"{SCRIPT.name} must import every vendored module directly; missing: {missing}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (tmp / f"{out.name}.py").write_text(script, encoding="utf-8")
        for src, name in VENDORED.items():
            (tmp / f"{name}.py").write_text(rewrite_imports(src.read_text(encoding="utf-8"), src), encoding="utf-8")
        for name in COPIED:
            shutil.copyfile(HERE / name, tmp / name)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)  # all or nothing: a failed export leaves OUT as it was
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audiomarathon_metric.export", description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="folder to write (a Space checkout, or any folder for evaluate.load)")
    parser.add_argument("--force", action="store_true", help="replace OUT if it is not empty")
    args = parser.parse_args(argv)
    try:
        path = export(args.out, force=args.force)
    except (FileExistsError, ValueError) as err:
        print(f"export: error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {path} — load with evaluate.load({str(path)!r}, 'all'), "
          f"or push it to a Space <org>/{path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
