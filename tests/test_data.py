import gzip, shutil
import pytest
from concept_attrib.data import load_fashion_mnist, load_california_housing, DEBIAN_FASHION_MNIST, DataError

pytestmark = pytest.mark.skipif(not DEBIAN_FASHION_MNIST.exists(), reason="needs Debian's dataset-fashion-mnist")

def test_env_folder_comes_before_the_debian_copy(tmp_path, monkeypatch):
    "CONCEPT_ATTRIB_DATA is searched before the Debian copy, and the dataset says where it came from."
    folder = tmp_path/'fashion-mnist'; folder.mkdir()
    for f in DEBIAN_FASHION_MNIST.glob('*.gz'): shutil.copy(f, folder/f.name)
    monkeypatch.setenv('CONCEPT_ATTRIB_DATA', str(tmp_path))
    ds = load_fashion_mnist()
    assert ds.source == str(folder) and len(ds.train) == 60000

def test_corrupt_file_in_env_folder_is_named(tmp_path, monkeypatch):
    for f in DEBIAN_FASHION_MNIST.glob('*.gz'): shutil.copy(f, tmp_path/f.name)
    raw = gzip.open(tmp_path/'train-images-idx3-ubyte.gz').read()
    (tmp_path/'train-images-idx3-ubyte.gz').write_bytes(gzip.compress(raw[:len(raw)//2]))
    monkeypatch.setenv('CONCEPT_ATTRIB_DATA', str(tmp_path))
    with pytest.raises(DataError, match='train-images-idx3-ubyte.gz: header says shape'): load_fashion_mnist()

def test_env_folder_for_california(tmp_path, monkeypatch):
    df = load_california_housing()
    df.head(100).to_csv(tmp_path/'california_housing.csv', index=False)
    monkeypatch.setenv('CONCEPT_ATTRIB_DATA', str(tmp_path))
    assert len(load_california_housing()) == 100
