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
