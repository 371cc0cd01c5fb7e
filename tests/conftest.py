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
