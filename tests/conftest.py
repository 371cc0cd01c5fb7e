from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

def pytest_addoption(parser):
    parser.addoption('--slow', action='store_true', help='also run the notebooks\' #| slow cells')

@pytest.fixture(scope='session')
def root(): return ROOT

@pytest.fixture(scope='session')
def fashion():
    from concept_attrib.data import load_fashion_mnist
    return load_fashion_mnist()

@pytest.fixture(scope='session', autouse=True)
def temporary_files(tmp_path_factory):
    """The stores that tests and notebooks make with `tempfile.mkdtemp()` go under pytest's temporary folder and are
    removed after the run (a tutorial's store holds gigabytes). Only this process's `tempfile` is redirected: TMPDIR
    stays, since Ray puts its sockets under it and their paths must stay short."""
    import shutil, tempfile
    d, before = tmp_path_factory.mktemp('tmp'), tempfile.tempdir
    tempfile.tempdir = str(d)
    yield d
    tempfile.tempdir = before
    shutil.rmtree(d, ignore_errors=True)
