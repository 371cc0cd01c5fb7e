"""TRAK featurisation survives a kill: a run killed part-way is resumed without redoing finished batches."""
import os, signal, subprocess, sys, textwrap
import torch

SCRIPT = textwrap.dedent('''
    import sys, torch, warnings; warnings.filterwarnings('ignore')
    torch.set_num_threads(1)
    from concept_attrib.core import ArtifactStore
    from concept_attrib.data import load_fashion_mnist
    from concept_attrib.models import SmallResNet
    from concept_attrib.attribution import TRAK
    data = load_fashion_mnist()
    torch.manual_seed(0); model = SmallResNet(width=8).eval()
    t = TRAK(model, data, train_idx=torch.arange(600), proj_dim=64, store=ArtifactStore(sys.argv[1]), batch_size=20, progress=False)
    real = t.traker.featurize
    def logged(**kw):
        out = real(**kw); print('batch', flush=True); return out
    t.traker.featurize = logged
    t.featurize()
    s = t.score(data.test.x[:5], data.test.y[:5], name='check')
    torch.save(s, sys.argv[2]); print('done', flush=True)
''')

def run(store, out, kill_after=None):
    p = subprocess.Popen([sys.executable, '-c', SCRIPT, str(store), str(out)], stdout=subprocess.PIPE, text=True,
                         env=dict(os.environ, OMP_NUM_THREADS='1'))
    batches = 0
    for line in p.stdout:
        if line.startswith('batch'): batches += 1
        if kill_after is not None and batches == kill_after:
            p.send_signal(signal.SIGKILL); break
    p.wait()
    return batches, p.returncode

def test_featurize_resumes_after_kill(tmp_path):
    n_batches = 600 // 20
    done, rc = run(tmp_path/'a', tmp_path/'a.pt', kill_after=12)
    assert rc == -signal.SIGKILL and done == 12
    rest, rc = run(tmp_path/'a', tmp_path/'a.pt')
    assert rc == 0
    assert rest <= n_batches - 12 + 1, f"resumed run recomputed {rest} batches; at most {n_batches - 12 + 1} were unfinished"
    full, rc = run(tmp_path/'b', tmp_path/'b.pt')
    assert rc == 0 and full == n_batches
    torch.testing.assert_close(torch.load(tmp_path/'a.pt'), torch.load(tmp_path/'b.pt'), atol=1e-5, rtol=1e-4)
