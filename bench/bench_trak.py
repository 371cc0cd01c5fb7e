"""TRAK benchmarks, all measured in one run on the attribution notebook's benchmark.

- `featurize_over_grad`: time to featurise the training examples (per-example gradients, projection with the sparse
  projector, out-to-loss terms, storing) over the time of the per-example gradients alone, same examples, same run;
  `featurize_over_grad_gaussian` is the same ratio with traker's CPU Gaussian projector.
- `projector_lds_delta`: |LDS(sparse projector) - LDS(Gaussian projector)|, same members, same proj_dim,
  same ground truth.
- `lds_trak_10`: LDS of TRAK with 10 members; `lds_seed_ceiling` is how well two retrainings of the same subsets agree,
  `lds_truth_reliability` how well the ground truth's averaged outputs would agree with another such average.
- `lds_trak_10_last_stage`: LDS of TRAK with 10 members when it attributes through the last stage and the head only
  (`params=['stage3', 'fc']`, as a user of a large model would restrict it); `lds_last_stage_over_all` is its ratio to
  `lds_trak_10`, and `grad_speedup_last_stage` how much faster its per-example gradients are (median over REPEATS).

Medians over REPEATS for the timings.
"""
import os, sys, time, statistics, tempfile, warnings
# this file is named trak.py: keep its folder off the path so that `import trak` finds the traker package
warnings.filterwarnings('ignore')
import numpy as np, torch
from concept_attrib.core import ArtifactStore
from concept_attrib.data import load_fashion_mnist
from concept_attrib.models import SmallResNet, train_ensemble
from concept_attrib.attribution import TRAK, lds_ground_truth, lds

N_TRAIN = int(os.environ.get('BENCH_N_TRAIN', 1000))
PROJ_DIM = int(os.environ.get('BENCH_PROJ_DIM', 2048))
REPEATS = int(os.environ.get('BENCH_REPEATS', 5))
EPOCHS = 10   # the attribution notebook's recipe: shorter training leaves retrainings dominated by seed noise

def featurize_ratio(models, data, idx, projector, store):
    t = TRAK(models[:1], data, train_idx=idx, proj_dim=PROJ_DIM, projector=projector, store=store, progress=False)
    gc = t.traker.gradient_computer
    t.traker.load_checkpoint(models[0].state_dict(), model_id=0)
    batches = [np.arange(i, min(len(idx), i + t.batch_size)) for i in range(0, len(idx), t.batch_size)]
    gc.compute_per_sample_grad((t.x[batches[0]], t.y[batches[0]]))    # warm up
    t0 = time.perf_counter()
    for b in batches: gc.compute_per_sample_grad((t.x[b], t.y[b]))
    t_grad = time.perf_counter() - t0
    t0 = time.perf_counter()
    for b in batches: t.traker.featurize(batch=(t.x[b], t.y[b]), inds=b)
    t_feat = time.perf_counter() - t0
    return t_feat / t_grad

def grad_speedup(model, data, idx):
    "Per-example gradient time through all parameters over the time through stage3 and fc only, same examples."
    times = []
    for params in (None, ['stage3', 'fc']):
        t = TRAK([model], data, train_idx=idx, proj_dim=PROJ_DIM, params=params,
                 store=ArtifactStore(tempfile.mkdtemp()), progress=False)
        gc = t.traker.gradient_computer; t.traker.load_checkpoint(model.state_dict(), model_id=0)
        b = (t.x[:t.batch_size], t.y[:t.batch_size]); gc.compute_per_sample_grad(b)   # warm up
        t0 = time.perf_counter()
        for i in range(0, len(idx), t.batch_size): gc.compute_per_sample_grad((t.x[i:i + t.batch_size],
                                                                                t.y[i:i + t.batch_size]))
        times.append(time.perf_counter() - t0)
    return times[0] / times[1]

def main():
    data = load_fashion_mnist(); idx = torch.arange(N_TRAIN)
    store = ArtifactStore(tempfile.mkdtemp())
    ens = train_ensemble(SmallResNet(width=8), data, members=10, epochs=EPOCHS, train_idx=idx, batch_size=64,
                         progress=False)
    for proj in ('sparse', 'gaussian'):
        ratios = [featurize_ratio(ens.models, data, idx, proj, ArtifactStore(tempfile.mkdtemp()))
                  for _ in range(REPEATS)]
        print(f"# {proj}: featurisation / gradients {', '.join(f'{r:.2f}' for r in ratios)} "
              f"(proj_dim {PROJ_DIM})", file=sys.stderr)
        print(f"featurize_over_grad{'' if proj == 'sparse' else '_gaussian'}: "
              f"{statistics.median(ratios):.2f}", flush=True)
    x, y = data.test.x[:100], data.test.y[:100]
    gt = lds_ground_truth(SmallResNet(width=8), data, idx, x, y, m=32, retrainings=4,
                          epochs=EPOCHS, store=store, progress=False)
    score = lambda models, proj: lds(TRAK(models, data, train_idx=idx, proj_dim=512, projector=proj,
                                          store=store, progress=False).featurize().score(x, y), gt)['lds']
    sparse5, gauss5 = score(ens.models[:5], 'sparse'), score(ens.models[:5], 'gaussian')
    print(f"# LDS with 5 members, proj_dim 512: sparse {sparse5:.4f}, gaussian {gauss5:.4f}", file=sys.stderr)
    print(f"projector_lds_delta: {abs(sparse5 - gauss5):.4f}", flush=True)
    full = score(ens.models, 'sparse')
    print(f"lds_trak_10: {full:.4f}", flush=True)
    last = lds(TRAK(ens.models, data, train_idx=idx, proj_dim=512, params=['stage3', 'fc'], store=store,
                    progress=False).featurize().score(x, y), gt)['lds']
    print(f"lds_trak_10_last_stage: {last:.4f}", flush=True)
    print(f"lds_last_stage_over_all: {last / full:.3f}", flush=True)
    print(f"grad_speedup_last_stage: "
          f"{statistics.median(grad_speedup(ens.models[0], data, idx) for _ in range(REPEATS)):.2f}",
          flush=True)
    print(f"lds_seed_ceiling: {gt.ceiling:.4f}", flush=True)
    print(f"lds_truth_reliability: {gt.reliability:.4f}", flush=True)

if __name__ == '__main__': main()
