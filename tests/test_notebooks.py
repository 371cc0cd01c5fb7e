"Every notebook in nbs/ runs as a test, as `nbdev-test` would run it."
import os
from pathlib import Path
import pytest
from nbdev.test import test_nb as run_notebook

NBS = Path(__file__).resolve().parents[1]/'nbs'
NOTEBOOKS = sorted(p for p in NBS.rglob('*.ipynb') if not any(part.startswith(('.', '_')) for part in p.relative_to(NBS).parts))

def test_found_notebooks(): assert len(NOTEBOOKS) >= 5

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[str(p.relative_to(NBS)) for p in NOTEBOOKS])
def test_notebook(nb, request):
    flags = ['slow'] if request.config.getoption('--slow') else []
    cwd = os.getcwd(); os.chdir(nb.parent)
    try: ok, secs = run_notebook(nb, skip_flags=[f for f in ['slow'] if f not in flags], basepath=str(NBS.parent))
    finally: os.chdir(cwd)
    assert ok, f"{nb.name} failed (traceback above)"
