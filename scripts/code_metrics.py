"""Readability figures of the library: export cells by length, long code lines, functions by parameter count.

Prints one `name: value` line a figure; `--list` also names the export cells over 40 lines and the long functions."""
import argparse, ast, json, pathlib, re

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXPORT = re.compile(r'^#\|\s*export')


def export_cells(nbs=ROOT/'nbs'):
    "Yield (notebook, cell index, source lines) for every export cell of the notebooks in `nbs`."
    for nb in sorted(nbs.rglob('*.ipynb')):
        if nb.name.startswith('_'): continue
        for i, c in enumerate(json.loads(nb.read_text())['cells']):
            src = ''.join(c['source']).splitlines()
            if c['cell_type'] == 'code' and src and EXPORT.match(src[0]): yield nb.relative_to(nbs), i, src[1:]


def code_lines(pkg=ROOT/'concept_attrib'):
    "Non-blank lines of the generated modules (without the nbdev index)."
    return [l for f in sorted(pkg.glob('*.py')) if f.name != '_modidx.py' for l in f.read_text().splitlines()
            if l.strip() and not l.startswith(('# %% ', '__all__'))]


def functions(pkg=ROOT/'concept_attrib'):
    "Yield (module, qualified name, parameter count without self/cls) for every function of the modules."
    for f in sorted(pkg.glob('*.py')):
        if f.name == '_modidx.py': continue
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                a = node.args
                names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs if x.arg not in ('self', 'cls')]
                yield f.stem, node.name, len(names)


def metrics():
    cells = list(export_cells())
    lines = code_lines()
    fns = list(functions())
    return dict(export_cells=len(cells), export_cells_over_40=sum(len(s) > 40 for *_, s in cells),
                export_cells_over_60=sum(len(s) > 60 for *_, s in cells),
                longest_export_cell=max(len(s) for *_, s in cells),
                code_lines=len(lines), code_lines_over_120=sum(len(l) > 120 for l in lines),
                share_over_120=round(sum(len(l) > 120 for l in lines) / len(lines), 4),
                functions=len(fns), functions_over_8_params=sum(n > 8 for *_, n in fns))


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--list', action='store_true')
    args = p.parse_args()
    for k, v in metrics().items(): print(f'{k}: {v}')
    if args.list:
        for nb, i, s in export_cells():
            if len(s) > 40: print(f'  cell {nb}[{i}]: {len(s)} lines, {s[0][:70]}')
        for m, n, k in functions():
            if k > 8: print(f'  function {m}.{n}: {k} parameters')
