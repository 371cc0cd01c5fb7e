"""The Ray backend, against a Ray head started here on 127.0.0.1, gives exactly what the local backend gives."""
import os, secrets, signal, socket, subprocess, sys, time
from pathlib import Path
import pytest, torch

# Read by Ray when it is imported, so set before: a single-machine Ray whose servers listen on 127.0.0.1 only, and a
# fresh token shared by the head started below and this process (its driver).
os.environ.update(RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER='0', RAY_AUTH_MODE='token', RAY_USAGE_STATS_ENABLED='0')
os.environ.setdefault('RAY_AUTH_TOKEN', secrets.token_hex(32))
ray = pytest.importorskip('ray')

def free_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def listening(port) -> bool:
    with socket.socket() as s: return s.connect_ex(('127.0.0.1', port)) == 0

@pytest.fixture(scope='module')
def ray_head(tmp_path_factory):
    "A Ray head in the foreground (`--block`), so that stopping it stops only this cluster."
    port, log = free_port(), tmp_path_factory.mktemp('ray')/'head.log'
    head = subprocess.Popen([str(Path(sys.executable).with_name('ray')), 'start', '--head', '--block', '--node-ip-address=127.0.0.1',
                             f'--port={port}', '--num-cpus=2', '--include-dashboard=false', '--disable-usage-stats'],
                            stdout=open(log, 'w'), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        t0 = time.time()
        while not listening(port):
            if head.poll() is not None or time.time() - t0 > 120: pytest.fail(f"the Ray head did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield f'127.0.0.1:{port}'
    finally:
        if ray.is_initialized(): ray.shutdown()
        os.killpg(head.pid, signal.SIGTERM)
        try: head.wait(60)
        except subprocess.TimeoutExpired: os.killpg(head.pid, signal.SIGKILL)

def test_ray_matches_local(ray_head, fashion):
    from concept_attrib.models import SmallResNet, train_ensemble
    kw = dict(members=2, stack=1, workers=2, epochs=1, train_idx=torch.arange(256), batch_size=64, progress=False)
    local = train_ensemble(SmallResNet(width=8), fashion, backend='local', **kw)
    remote = train_ensemble(SmallResNet(width=8), fashion, backend='ray', ray_address=ray_head, **kw)
    assert ray.is_initialized() and ray.get_runtime_context().gcs_address == ray_head   # it ran on that cluster
    for a, b in zip(local.models, remote.models):
        for (k, p), q in zip(a.state_dict().items(), b.state_dict().values()): assert torch.equal(p, q), k
    assert local.test_metrics == remote.test_metrics

USER_MODULE = '''
import torch
from torch import nn
def make_model():
    "A user's model factory in the user's own file."
    return nn.Sequential(nn.Conv2d(1, 6, 3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(24, 10))
'''

NOTEBOOK_CELL = '''
import torch
from torch import nn
class CellNet(nn.Module):
    def __init__(self):
        super().__init__(); self.conv = nn.Conv2d(1, 4, 3, 2, 1); self.fc = nn.Linear(4, 10)
    def forward(self, x): return self.fc(torch.relu(self.conv(x)).mean((2, 3)))
def make_cell_net(): return CellNet()
'''

@pytest.fixture(scope='module')
def user_factories(tmp_path_factory):
    "A factory from a file beside the user's notebook (importable here only) and one defined in a notebook cell (module __main__)."
    import importlib
    d = tmp_path_factory.mktemp('user_code'); (d/'my_models_for_test.py').write_text(USER_MODULE)
    sys.path.insert(0, str(d))
    try: mod = importlib.import_module('my_models_for_test')
    finally: sys.path.remove(str(d))
    cell = {'__name__': '__main__'}; exec(NOTEBOOK_CELL, cell)
    return dict(user_module=mod.make_model, notebook_cell=cell['make_cell_net'])

def _same_members(a, b):
    for ma, mb in zip(a.models, b.models):
        for (k, p), q in zip(ma.state_dict().items(), mb.state_dict().values()): assert torch.equal(p, q), k
    assert a.test_metrics == b.test_metrics

@pytest.mark.parametrize('which', ['user_module', 'notebook_cell'])
def test_factories_retrain_on_spawned_workers_and_ray(ray_head, fashion, user_factories, which):
    from concept_attrib.models import train_ensemble
    factory = user_factories[which]
    kw = dict(members=2, stack=1, epochs=1, train_idx=torch.arange(256), batch_size=64, progress=False)
    threads = torch.get_num_threads(); torch.set_num_threads(1)
    try: here = train_ensemble(factory, fashion, **kw)           # in this process, one thread: what each worker uses
    finally: torch.set_num_threads(threads)
    spawned = train_ensemble(factory, fashion, workers=2, **kw)
    on_ray = train_ensemble(factory, fashion, backend='ray', ray_address=ray_head, workers=2, **kw)
    _same_members(here, spawned); _same_members(here, on_ray)
    assert type(spawned.models[0]).__name__ == type(here.models[0]).__name__

def test_module_function_string_factory_on_spawned_workers(fashion, tmp_path, monkeypatch):
    "'module:function' is imported where it runs: spawned workers inherit this process's import path."
    from concept_attrib.models import train_ensemble
    (tmp_path/'my_string_models.py').write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    kw = dict(members=2, stack=1, epochs=1, train_idx=torch.arange(128), batch_size=64, progress=False)
    spawned = train_ensemble('my_string_models:make_model', fashion, workers=2, **kw)
    threads = torch.get_num_threads(); torch.set_num_threads(1)
    try: here = train_ensemble('my_string_models:make_model', fashion, **kw)
    finally: torch.set_num_threads(threads)
    _same_members(here, spawned)
    assert spawned.configs[0]['model']['factory'] == 'my_string_models:make_model'

def test_trak_members_featurised_as_ray_jobs(ray_head, fashion, tmp_path):
    "TRAK's members as Ray jobs over a streamed dataset: the scores computed here, and a member finished here is kept."
    from torch.utils.data import TensorDataset
    from concept_attrib.core import ArtifactStore
    from concept_attrib.models import SmallResNet
    from concept_attrib.attribution import TRAK
    members = []
    for s in range(3):
        torch.manual_seed(s); members.append(SmallResNet(width=8).eval())
    ds = TensorDataset(fashion.train.x[:300], fashion.train.y[:300])
    kw = dict(proj_dim=64, progress=False, device='cpu')
    here = TRAK(members, ds, store=ArtifactStore(tmp_path/'here'), **kw).featurize()
    on_ray = TRAK(members, ds, store=ArtifactStore(tmp_path/'ray'), **kw)
    on_ray._featurize_member(0)                                   # one member finished before the jobs start
    on_ray.featurize(backend='ray', ray_address=ray_head)
    assert on_ray.featurized and sorted(on_ray.lambdas) == [0, 1, 2]
    x, y = fashion.test.x[:10], fashion.test.y[:10]
    torch.testing.assert_close(on_ray.score(x, y), here.score(x, y), rtol=1e-4, atol=1e-6)
