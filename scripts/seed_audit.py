"""Run notebooks under several seed settings and thread counts, and tabulate every `assert`: did it hold,
and on what values.

Each `assert` statement becomes a recorder that keeps going when it fails, so one run shows every claim of a
notebook, not just the first that misses. The operands of each comparison (`acc > 0.8` records `acc` and `0.8`)
are written as JSON lines, one per assertion and run; `--table` prints, per assertion, the values over the runs.

    python scripts/seed_audit.py nbs/09_backprop.ipynb --settings 0 1 2 --threads 1 --out audit.jsonl
    python scripts/seed_audit.py --table audit.jsonl
"""
import argparse, ast, json, os, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RECORDER = ('''
import json as _j, os as _o
def _audit_val(v):
    try:
        import torch, numpy as np, pandas as pd
        if isinstance(v, (bool, int, float, str)) or v is None: return v
        if isinstance(v, torch.Tensor): v = v.detach().cpu().numpy()
        if isinstance(v, (pd.Series, pd.Index)): v = v.to_numpy()
        if isinstance(v, pd.DataFrame): v = v.to_numpy().ravel()
        if isinstance(v, np.generic): return v.item()
        if isinstance(v, np.ndarray) and v.size <= 12 and v.dtype.kind in 'biuf': return [x.item() for x in v.ravel()]
    except Exception: pass
    return repr(v)[:60]
def _audit(cell, src, parts, ok):
    rec = dict(nb=_o.environ['AUDIT_NB'], cell=cell, src=src, ok=bool(ok), '''
            '''setting=_o.environ.get('CONCEPT_ATTRIB_SEED', '0'),
               threads=_o.environ.get('OMP_NUM_THREADS'), parts=[])
    for p in parts:
        try: rec['parts'].append([_audit_val(f()) for f in p])
        except Exception as e: rec['parts'].append(['error: ' + repr(e)[:60]])
    with open(_o.environ['AUDIT_OUT'], 'a') as f: f.write(_j.dumps(rec) + '\\n')
''')

def _rewrite(src: str, cell: int) -> str:
    "Replace each `assert` statement of a cell's source with a call of the recorder (same place, one line)."
    try: tree = ast.parse(src)
    except SyntaxError: return src
    lines = src.split('\n')
    asserts = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Assert)),
                     key=lambda n: (n.lineno, n.col_offset), reverse=True)
    for n in asserts:
        if n.lineno != n.end_lineno: continue   # multi-line asserts stay as they are
        terms = n.test.values if isinstance(n.test, ast.BoolOp) and isinstance(n.test.op, ast.And) else [n.test]
        parts = []
        for t in terms:
            if isinstance(t, ast.Compare): parts.append('(' + ', '.join(f'lambda: ({ast.unparse(e)})'
                                                                        for e in [t.left, *t.comparators]) + ',)')
            else: parts.append(f'(lambda: ({ast.unparse(t)}),)')
        test = ast.unparse(n.test)
        call = f"_audit({cell}, {test!r}, [{', '.join(parts)}], ({test}))"
        line = lines[n.lineno - 1]
        lines[n.lineno - 1] = line[:n.col_offset] + call + line[n.end_col_offset:]
    return '\n'.join(lines)

def audit_notebook(nb: Path, out: Path, setting: int, threads: int, keep: Path | None = None) -> dict:
    ("Run one notebook (slow cells skipped) with its asserts recorded, keeping the executed notebook "
     "in `keep`; returns how it went.")
    d = json.loads(nb.read_text())
    for i, c in enumerate(d['cells']):
        if c['cell_type'] == 'code': c['source'] = _rewrite(''.join(c['source']), i)
    first = next(i for i, c in enumerate(d['cells']) if c['cell_type'] == 'code')
    d['cells'].insert(first + 1, dict(cell_type='code', execution_count=None, id='auditrec', metadata={},
                                      outputs=[], source=RECORDER))
    tmp = nb.parent / f'_audit_{setting}_{threads}_{nb.name}'
    tmp.write_text(json.dumps(d))
    env = dict(os.environ, AUDIT_NB=nb.name, AUDIT_OUT=str(out.resolve()), CONCEPT_ATTRIB_SEED=str(setting),
               OMP_NUM_THREADS=str(threads), CONCEPT_ATTRIB_STORE=tempfile.mkdtemp(prefix='audit-store-'))
    code = ("import sys, time; from nbdev.test import test_nb; t = time.time(); "
            f"ok, _ = test_nb({str(tmp)!r}, skip_flags=['slow'], basepath={str(ROOT)!r}, cell_timeout=1800, "
            f"save={keep is not None}); "
            "print('AUDIT-RESULT', ok, round(time.time() - t, 1))")
    try: r = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, cwd=nb.parent)
    finally:
        if keep is not None and tmp.exists():
            keep.mkdir(parents=True, exist_ok=True); tmp.replace(keep / tmp.name.removeprefix('_audit_'))
        tmp.unlink(missing_ok=True)
    last = [l for l in r.stdout.splitlines() if l.startswith('AUDIT-RESULT')]
    ok, secs = (last[0].split()[1] == 'True', float(last[0].split()[2])) if last else (False, None)
    res = dict(nb=nb.name, setting=setting, threads=threads, ran_through=ok, seconds=secs,
               error=None if ok else r.stderr[-1500:])
    with open(out, 'a') as f: f.write(json.dumps(dict(run=res)) + '\n')
    return res

def table(path: Path):
    "Per assertion: the values it compared in every run, and in how many runs it held."
    import pandas as pd
    recs = [json.loads(l) for l in path.read_text().splitlines() if l.strip()]
    runs = [r['run'] for r in recs if 'run' in r]
    for r in runs: print(f"run {r['nb']} setting {r['setting']} threads {r['threads']}: "
                         f"{'ran through' if r['ran_through'] else 'STOPPED'} in {r['seconds']} s"
                         + ('' if r['ran_through'] else f"\n    {(r['error'] or '').strip().splitlines()[-1:]}"))
    rows = [r for r in recs if 'src' in r]
    if not rows: return
    df = pd.DataFrame(rows)
    def short(v): return f'{v:.3g}' if isinstance(v, float) else str(v)[:40]
    df['values'] = df.parts.apply(lambda ps: ' | '.join(', '.join(short(x) for x in p) for p in ps))
    df['run'] = 's' + df.setting.astype(str) + 't' + df.threads.astype(str)
    for (nb, cell, src), g in df.groupby(['nb', 'cell', 'src'], sort=False):
        print(f"\n{nb} cell {cell}: assert {src[:150]}\n    held {int(g.ok.sum())}/{len(g)}: "
              + '; '.join(f"{r.run}={r['values']}{'' if r.ok else ' FAIL'}" for _, r in g.iterrows()))

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('notebooks', nargs='*', type=Path)
    ap.add_argument('--settings', nargs='+', type=int, default=[0], help='values of CONCEPT_ATTRIB_SEED')
    ap.add_argument('--threads', nargs='+', type=int, default=[1], help='values of OMP_NUM_THREADS')
    ap.add_argument('--out', type=Path, default=Path('seed_audit.jsonl'))
    ap.add_argument('--keep', type=Path, help='keep the executed notebooks (with their outputs) in this folder')
    ap.add_argument('--table', type=Path, help='print the table of a finished audit and stop')
    a = ap.parse_args()
    if a.table: table(a.table); sys.exit(0)
    for nb in a.notebooks:
        for t in a.threads:
            for s in a.settings:
                r = audit_notebook(nb.resolve(), a.out, s, t, a.keep)
                print(f"{r['nb']} setting {s} threads {t}: "
                      f"{'ran through' if r['ran_through'] else 'stopped'} in {r['seconds']} s", flush=True)
