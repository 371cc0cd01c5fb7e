"""Component-attribution benchmarks, each measured in one run.

- `ablation_over_forward`: throughput (images/s) of a forward pass whose batch carries ablation masks through
  `Components.ablate` hooks (8 masks x 128 examples) over that of a plain forward pass of the same model on a batch
  of the same size (1,024 images); median over REPEATS.
- `hooks_over_deepcopy`: time per mask of evaluating 128 examples under a mask by deep-copying the model and zeroing
  the ablated filters (what COAR's code does) over the time per mask of the batched hooks; median over REPEATS.
- `passes_saved_lds_0.3`: the share of ablated passes (masks) the extracted-linear fit saves over COAR to reach
  LDS 0.3 on held-out masks (negative: it needs more), on the components notebook's setting (a width-8 ResNet trained
  5 epochs on 10,000 Fashion-MNIST images, 200 test examples, 1,280 + 300 masks at α = 5%).
"""
import os, statistics, sys, tempfile, time, warnings
warnings.filterwarnings('ignore')
import torch
from concept_attrib.core import ArtifactStore
from concept_attrib.data import load_fashion_mnist
from concept_attrib.models import SmallResNet, train
from concept_attrib.components import Components, ablate_by_copy, mask_dataset, sample_efficiency, passes_to_reach

REPEATS = int(os.environ.get('BENCH_REPEATS', 5))

def timed(f, n):
    f(); t0 = time.perf_counter()
    for _ in range(n): f()
    return (time.perf_counter() - t0) / n

def main():
    data = load_fashion_mnist()
    model = train(SmallResNet(width=8), data, epochs=5, train_idx=torch.arange(10_000), batch_size=64,
                  progress=False).model.eval()
    comps = Components(model)
    x, M = data.test.x[:128], 8
    masks = torch.rand(M, comps.n, generator=torch.Generator().manual_seed(0)) < 0.05
    xb = x.repeat(M, 1, 1, 1)
    def masked():
        with torch.no_grad(), comps.ablate(masks, n_examples=len(x)): model(xb)
    def plain():
        with torch.no_grad(): model(xb)
    def copies():
        with torch.no_grad():
            for mk in masks: ablate_by_copy(model, comps, mk)(x)
    over_fwd, over_copy = [], []
    for _ in range(REPEATS):
        t_plain, t_mask, t_copy = timed(plain, 10), timed(masked, 10), timed(copies, 3)
        over_fwd.append(t_plain / t_mask); over_copy.append(t_copy / t_mask)
        print(f"# plain {t_plain*1e3:.1f} ms, masked {t_mask*1e3:.1f} ms, deep copies {t_copy*1e3:.1f} ms "
              f"per {M} masks x {len(x)} examples", file=sys.stderr, flush=True)
    print(f"ablation_over_forward: {statistics.median(over_fwd):.2f}", flush=True)
    print(f"hooks_over_deepcopy: {statistics.median(over_copy):.2f}", flush=True)
    store = ArtifactStore(tempfile.mkdtemp())
    ex_x, ex_y = data.test.x[:200], data.test.y[:200]
    tr = mask_dataset(model, comps, ex_x, ex_y, m=1280, seed=0, store=store, progress=False)
    te = mask_dataset(model, comps, ex_x, ex_y, m=300, seed=1, store=store, progress=False)
    curve = sample_efficiency(tr, te, ms=(10, 20, 40, 80, 160, 320, 640, 1280), progress=False)
    need = passes_to_reach(curve)
    print(need.round(3).to_string(), file=sys.stderr)
    print(f"passes_saved_lds_0.3: {need.set_index('level').loc[0.3, 'saved_by_extracted']:.3f}", flush=True)

if __name__ == '__main__': main()
