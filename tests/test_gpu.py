"""The methods on CUDA against the CPU: run with `pytest -m gpu tests/test_gpu.py`; skipped where torch sees no CUDA.

These report what CUDA gives; nothing in `make test` needs a GPU."""
import tempfile
import pytest, torch

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason='no CUDA device')]


@pytest.fixture(autouse=True)
def no_tf32():
    "CUDA matmuls in full float32 for the comparisons (TF32 rounds to 10 mantissa bits)."
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def test_sparse_projector_on_cuda():
    from concept_attrib.attribution import SparseProjector
    g = torch.randn(20, 5000)
    cpu = SparseProjector(5000, 256, seed=1).project(g, 0)
    gpu = SparseProjector(5000, 256, seed=1, device='cuda').project(g.cuda(), 0)
    assert gpu.device.type == 'cuda'
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-4, atol=1e-4)


def test_trak_on_cuda_matches_cpu(fashion):
    from concept_attrib.core import ArtifactStore, pearson
    from concept_attrib.models import SmallResNet, train_ensemble
    from concept_attrib.attribution import TRAK
    idx = torch.arange(500)
    ens = train_ensemble(SmallResNet(width=8), fashion, members=2, epochs=2, train_idx=idx, batch_size=64,
                         progress=False)
    scores = {}
    for dev in ('cpu', 'cuda'):
        t = TRAK(ens, fashion, train_idx=idx, proj_dim=128, store=ArtifactStore(tempfile.mkdtemp()), progress=False,
                 device=dev).featurize()
        assert t.model.fc.weight.device.type == dev
        scores[dev] = t.score(fashion.test.x[:20], fashion.test.y[:20], loss_weighted=False).clone()
    r = pearson(scores['cpu'].flatten(), scores['cuda'].flatten()).item()
    print(f"TRAK scores, CUDA against CPU: Pearson {r:.6f}")
    assert r >= 0.999


def test_trak_streamed_dataset_on_cuda(fashion):
    from torch.utils.data import DataLoader, TensorDataset
    from concept_attrib.core import ArtifactStore
    from concept_attrib.models import SmallResNet
    from concept_attrib.attribution import TRAK
    torch.manual_seed(0)
    ds = TensorDataset(fashion.train.x[:300], fashion.train.y[:300])
    t = TRAK(SmallResNet(width=8), DataLoader(ds, batch_size=50, pin_memory=True), proj_dim=64,
             store=ArtifactStore(tempfile.mkdtemp()), progress=False, device='cuda').featurize()
    s = t.score(fashion.test.x[:5], fashion.test.y[:5])
    assert s.shape == (300, 5) and torch.isfinite(s).all()


def test_train_on_cuda(fashion):
    from concept_attrib.models import SmallResNet, train, evaluate
    kw = dict(epochs=1, train_idx=torch.arange(2000), batch_size=64, progress=False, seed=3)
    cpu, gpu = (train(SmallResNet(width=8), fashion, device=d, **kw) for d in ('cpu', 'cuda'))
    assert next(gpu.model.parameters()).device.type == 'cpu'          # returned on the CPU, as a stored one is
    print(f"test accuracy after one epoch: CPU {cpu.test_metric:.4f}, CUDA {gpu.test_metric:.4f}")
    assert abs(cpu.test_metric - gpu.test_metric) < 0.05
    assert abs(evaluate(gpu.model, fashion.test) - gpu.test_metric) < 1e-6


def test_features_ablations_and_backprop_on_cuda(fashion):
    from concept_attrib.data import concept_dataset
    from concept_attrib.models import SmallResNet, train
    from concept_attrib.probes import layer_features, concept_features, layer_probes
    from concept_attrib.components import Components, ablated_outputs
    from concept_attrib.backprop import concept_backprop
    net = train(SmallResNet(width=8), fashion, epochs=1, train_idx=torch.arange(2000), batch_size=64,
                progress=False, device='cpu').model
    x, y = fashion.test.x[:64], fashion.test.y[:64]
    f_cpu, f_gpu = (layer_features(net, x, 'stage2.0', device=d)['stage2.0'] for d in ('cpu', 'cuda'))
    assert f_gpu.device.type == 'cpu'; torch.testing.assert_close(f_gpu, f_cpu, rtol=1e-4, atol=1e-4)
    comps = Components(net); masks = torch.rand(8, comps.n, generator=torch.Generator().manual_seed(0)) < 0.05
    a_cpu, a_gpu = (ablated_outputs(net, comps, masks, x, y, device=d) for d in ('cpu', 'cuda'))
    torch.testing.assert_close(a_gpu, a_cpu, rtol=1e-3, atol=1e-3)
    assert net.fc.weight.device.type == 'cpu'                           # the user's model did not move
    fw = concept_dataset('footwear', fashion)
    probe = layer_probes(concept_features(net, fw, 'stage3.0', probe_train=1000, probe_test=300, device='cuda'),
                         fw, 'stage3.0')[None]
    res = concept_backprop(net, probe, fashion.test.x[:8], target=0.9, steps=50, progress=False, device='cuda')
    assert res.changed.device.type == 'cpu' and res.probe_after.mean() > res.probe_before.mean()


def test_fits_edits_and_retraining_on_cuda(fashion):
    from concept_attrib.data import concept_dataset, as_data
    from concept_attrib.models import SmallResNet, train
    from concept_attrib.probes import fit_probe
    from concept_attrib.components import Components, mask_dataset, fit_coar, fit_extracted_linear, edit
    from concept_attrib.counterfactual import retrain_and_probe, _concept_labels
    net = train(SmallResNet(width=8), fashion, epochs=1, train_idx=torch.arange(2000), batch_size=64,
                progress=False, device='cpu').model
    g = torch.Generator().manual_seed(0)
    feats, labels = torch.randn(500, 32, generator=g), (torch.rand(500, generator=g) < 0.4).float()
    p_cpu, p_gpu = (fit_probe(feats, labels, k=5, device=d) for d in ('cpu', 'cuda'))
    assert p_gpu.mean.device.type == 'cpu'
    torch.testing.assert_close(p_gpu.linear.weight, p_cpu.linear.weight, rtol=1e-3, atol=1e-4)
    comps, x, y = Components(net), fashion.test.x[:32], fashion.test.y[:32]
    ds = mask_dataset(net, comps, x, y, m=200, progress=False, device='cuda')
    for fit in (fit_coar, fit_extracted_linear):
        a_cpu, a_gpu = fit(ds, device='cpu'), fit(ds, device='cuda')
        r = torch.corrcoef(torch.stack([a_cpu.weights.flatten(), a_gpu.weights.flatten()]))[0, 1].item()
        print(f"{fit.__name__}: CUDA against CPU weights, Pearson {r:.6f}")
        assert a_gpu.weights.device.type == 'cpu' and r > 0.99
    group = y == 9
    e_cpu, e_gpu = (edit(net, comps, fit_coar(ds), x, y, group, ks=(1, 4), n_random=2, device=d) for d in ('cpu', 'cuda'))
    assert (e_gpu.group_margin_change - e_cpu.group_margin_change).abs().max() < 1e-3
    fw = concept_dataset('footwear', fashion)
    streamed = as_data((torch.utils.data.TensorDataset(fashion.train.x, fashion.train.y),
                        torch.utils.data.TensorDataset(fashion.test.x, fashion.test.y)), stream=True, name='fm_stream')
    res = retrain_and_probe(SmallResNet(width=8), streamed, seeds=[0, 1], member_idx=[torch.arange(1000)] * 2,
                            concepts=[_concept_labels(fw, streamed)], epochs=2, batch_size=64, probe_train=500,
                            probe_test=300, device='cuda')
    print('retrained on CUDA from a streamed dataset:', [(r['task'], r['probes']['footwear']['fc']) for r in res])
    assert all(0.3 < r['task'] <= 1 for r in res)   # chance is 0.1
