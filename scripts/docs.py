"""Render the documentation site offline.

1. Run every notebook in `nbs/` (skipping `#| slow` cells, as the tests do) into `_run/`, so pages show real outputs
   and figures. A notebook is rerun only when it, or the package it documents, changed (`_run/.hashes.json`).
2. Write the sidebar (`nbdev-sidebar`) and turn the run notebooks into pages in `_proc/`: hidden cells dropped, nbdev's
   directives removed, outputs kept (nothing runs twice).
3. Render `_proc/` with Quarto where it is installed, else with `smalldocs`, and build the API reference with
   `smalldocs api build`. The site lands in `_docs/`.
"""
import hashlib, json, os, shutil, subprocess, sys, time
from pathlib import Path
from fastcore.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

ROOT = Path(__file__).resolve().parents[1]
NBS, RUN = ROOT/'nbs', ROOT/'_run'
BIN = Path(sys.executable).parent

def _hash(*paths) -> str:
    h = hashlib.sha256()
    for p in paths: h.update(p.read_bytes())
    return h.hexdigest()[:16]

def _is_slow(cell) -> bool:
    return cell.cell_type == 'code' and cell.source.lstrip().startswith('#| slow')

def run_notebooks():
    pkg = _hash(*sorted((ROOT/'concept_attrib').glob('*.py')))
    RUN.mkdir(exist_ok=True)
    state_f = RUN/'.hashes.json'; state = json.loads(state_f.read_text()) if state_f.exists() else {}
    for src in sorted(NBS.rglob('*')):
        rel = src.relative_to(NBS)
        if any(part.startswith(('.', '_run', '_proc')) for part in rel.parts) or src.is_dir(): continue
        dest = RUN/rel; dest.parent.mkdir(parents=True, exist_ok=True)
        if src.suffix != '.ipynb' or src.name.startswith('_'):
            shutil.copy2(src, dest); continue
        key = f'{_hash(src)}-{pkg}'
        if state.get(str(rel)) == key and dest.exists():
            print(f'{rel}: unchanged, reusing its outputs', flush=True); continue
        t0 = time.perf_counter(); nb = read_nb(src)
        cwd = os.getcwd(); os.chdir(src.parent)
        try:
            sh = CaptureShell()
            sh.run_all(nb, exc_stop=True, preproc=_is_slow)
        finally: os.chdir(cwd)
        write_nb(nb, dest); state[str(rel)] = key
        state_f.write_text(json.dumps(state, indent=1))
        print(f'{rel}: ran in {time.perf_counter() - t0:.0f}s', flush=True)

NBDEV_ONLY = ('export', 'exports', 'exporti', 'slow', 'default_exp', 'eval:')

def _strip(cell):
    "Drop nbdev's own directives (export, slow, ...) from a cell; Quarto's (echo, output, fig-...) stay."
    lines = cell.source.splitlines(keepends=True)
    keep = [l for l in lines if not (l.startswith('#|') and l[2:].strip().startswith(NBDEV_ONLY))]
    cell.source = ''.join(keep)
    return cell

def process(src:Path, dest:Path) -> Path:
    """The run notebooks as pages: hidden cells and `default_exp` cells dropped, nbdev directives removed, outputs kept.
    (The run notebooks already hold every output, so nothing is executed again.)"""
    if dest.exists(): shutil.rmtree(dest)
    for f in sorted(src.rglob('*')):
        rel = f.relative_to(src); out = dest/rel
        if f.is_dir() or rel.name == '.hashes.json': continue
        out.parent.mkdir(parents=True, exist_ok=True)
        if f.suffix != '.ipynb': shutil.copy2(f, out); continue
        nb = read_nb(f)
        first = lambda c: c.source.lstrip().splitlines()[0] if c.source.strip() else ''
        nb.cells = [_strip(c) for c in nb.cells
                    if not (c.cell_type == 'code' and any(first(c).replace(' ', '').startswith(d)
                                                          for d in ('#|hide', '#|default_exp')))]
        nb.cells = [c for c in nb.cells if c.source.strip()]
        write_nb(nb, out)
    return dest

def main():
    run_notebooks()
    kept = (NBS/'nbdev.yml').read_text()   # nbdev-sidebar refreshes nbs/nbdev.yml; the tracked file stays as it is
    try: subprocess.run([BIN/'nbdev-sidebar', '--path', str(RUN), '--force'], check=True, cwd=ROOT)
    finally: (NBS/'nbdev.yml').write_text(kept)
    proc = process(RUN, ROOT/'_proc')
    # API pages, rendered with the rest
    subprocess.run([BIN/'smalldocs', 'api', 'build', '--dir', str(proc)], check=True, cwd=ROOT)
    if shutil.which('quarto'): subprocess.run(['quarto', 'render', str(proc)], check=True, cwd=ROOT)
    else: subprocess.run([BIN/'smalldocs', 'render', str(proc)], check=True, cwd=ROOT)
    if (proc/'_docs').exists():   # nbdev.yml's output-dir, as smalldocs resolves it
        shutil.rmtree(ROOT/'_docs', ignore_errors=True); shutil.move(str(proc/'_docs'), str(ROOT/'_docs'))
    print(f"site: {ROOT/'_docs'/'index.html'}")

if __name__ == '__main__': main()
