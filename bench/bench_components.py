"""Component-attribution benchmarks, each measured in one run.

- `ablation_over_forward`: throughput (images/s) of a forward pass whose batch carries ablation masks through
  `Components.ablate` hooks (8 masks x 128 examples) over that of a plain forward pass of the same model on a batch
  of the same size (1,024 images); median over REPEATS.
- `hooks_over_deepcopy`: time per mask of evaluating 128 examples under a mask by deep-copying the model and zeroing
  the ablated filters (what COAR's code does) over the time per mask of the batched hooks; median over REPEATS.
- `passes_saved_lds_0.3`: the share of ablated passes (masks) the extracted-linear fit saves over COAR to reach
  LDS 0.3 on held-out masks (negative: it needs more), on the components notebook's setting (a width-8 ResNet trained
  5 epochs on 10,000 Fashion-MNIST images, 200 test examples, 1,280 + 300 masks at α = 5%).

At the scale of COAR's own study: `ResNet18Small` (torchvision's ResNet-18 with a 3x3 stride-1 stem, R18_COMPONENTS
= every conv filter and output neuron, about 4,800) trained R18_EPOCHS epochs on R18_TRAIN Fashion-MNIST images, on
R18_EXAMPLES test examples, with R18_MASKS training masks and R18_HELDOUT held-out masks at α = 5%, R18_HELDOUT more
at 2.5% and at 10% (BENCH_R18_EXAMPLES, BENCH_R18_MASKS; BENCH_STORE keeps the model and the masks for a rerun,
which then costs only the fits):
- `resnet18_passes_saved_lds_0.3`, `_0.4`, `_0.5`: the share of COAR's (ridge) passes that extracted-linear (one
  network for all examples, hidden width and weight decay chosen on held-out masks) saves to reach that LDS
  (Spearman); negative when it needs more, nan where a level is not reached within R18_MASKS.
  `resnet18_per_example_...`: for one network per example (the method as proposed) on R18_PER_EXAMPLE examples,
  against COAR on the same examples. The curves of COAR fitted as released (least squares stopped early) go to
  stderr and to $BENCH_COMPONENTS_TABLE when set.
- `resnet18_coar_pearson_alpha_2.5`, `_5`, `_10`: COAR as released (least squares stopped early), fitted on all
  training masks at α = 5%, Pearson on held-out masks at each α; `resnet18_coar_ridge_pearson_...` with ridge.
- `hooks_over_deepcopy_resnet18`: as `hooks_over_deepcopy`, on the ResNet-18 at batch 128, with the hooks also
  at one mask (128 rows) per pass (median over 3); `hooks_8_masks_per_pass_over_deepcopy_resnet18` with the 8 masks
  in one pass of 1,024 rows, as for the small model. On the CPU a large convnet runs slower per image in large
  batches, so the mask datasets here run one mask per pass (`batch_size` = the number of examples).
- `resnet18_mask_seconds`: seconds of ablated passes per mask over the examples.
"""
import math, os, statistics, sys, tempfile, time, warnings
warnings.filterwarnings('ignore')
import torch
from concept_attrib.core import ArtifactStore
from concept_attrib.data import load_fashion_mnist
import pandas as pd
from concept_attrib.models import SmallResNet, ResNet18Small, train
from concept_attrib.components import (Components, ablate_by_copy, mask_dataset, sample_efficiency, passes_to_reach,
                                       fit_coar, fit_coar_least_squares, fit_extracted_linear, component_lds)

REPEATS = int(os.environ.get('BENCH_REPEATS', 5))
R18_EXAMPLES = int(os.environ.get('BENCH_R18_EXAMPLES', 100))
R18_MASKS = int(os.environ.get('BENCH_R18_MASKS', 4000))
R18_HELDOUT = int(os.environ.get('BENCH_R18_HELDOUT', 300))
R18_TRAIN = int(os.environ.get('BENCH_R18_TRAIN', 10_000))   # smaller for a quick check of the script
R18_EPOCHS, R18_PER_EXAMPLE = 2, 10
GRID = dict(hidden=(64, 256, 1024), weight_decay=(0, 1e-3))            # chosen on held-out masks
GRID_EACH = dict(hidden=(16, 64), weight_decay=(0, 1e-4, 1e-3))         # per example: one network each
PARTS = os.environ.get('BENCH_PARTS', 'small,resnet18').split(',')

def timed(f, n):
    f(); t0 = time.perf_counter()
    for _ in range(n): f()
    return (time.perf_counter() - t0) / n

def small(data):
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

def hooks_over_copies(model, comps, x, masks):
    """Time per mask of deep copies over that of the hooks (one repeat): the hooks with one mask per pass (the same
    batch of 128 as the copies) and with all the masks in one pass (the default for small models)."""
    xb = x.repeat(len(masks), 1, 1, 1)
    def batched():
        with torch.no_grad(), comps.ablate(masks, n_examples=len(x)): model(xb)
    def one_by_one():
        with torch.no_grad():
            for i in range(len(masks)):
                with comps.ablate(masks[i:i + 1], n_examples=len(x)): model(x)
    def copies():
        with torch.no_grad():
            for mk in masks: ablate_by_copy(model, comps, mk)(x)
    t_one, t_batched, t_copy = timed(one_by_one, 1), timed(batched, 1), timed(copies, 1)
    print(f"# ResNet-18, {len(masks)} masks x {len(x)} examples: hooks {t_one:.2f} s one mask per pass, "
          f"{t_batched:.2f} s all in one pass; deep copies {t_copy:.2f} s", file=sys.stderr, flush=True)
    return t_copy / t_one, t_copy / t_batched

def ms_up_to(m):
    "The numbers of masks of the curve: doubling from 125, and m itself."
    return sorted({*(125 * 2**k for k in range(int(math.log2(m / 125)) + 1) if 125 * 2**k <= m), m})

def resnet18(data, store):
    t0 = time.time()
    model = train(ResNet18Small(), data, epochs=R18_EPOCHS, train_idx=torch.arange(R18_TRAIN), batch_size=128,
                  store=store, progress=False).model.eval()
    comps = Components(model)
    with torch.no_grad(): acc = (model(data.test.x[-1000:]).argmax(1) == data.test.y[-1000:]).float().mean().item()
    print(f"# ResNet18Small: {comps.n} components, test accuracy {acc:.3f}, trained in {time.time() - t0:.0f} s",
          file=sys.stderr, flush=True)
    print(f"resnet18_components: {comps.n}", flush=True)
    draws = [torch.rand(8, comps.n, generator=torch.Generator().manual_seed(r)) < 0.05 for r in range(3)]
    ratios = [hooks_over_copies(model, comps, data.test.x[:128], mk) for mk in draws]
    print(f"hooks_over_deepcopy_resnet18: {statistics.median(r[0] for r in ratios):.2f}", flush=True)
    print(f"hooks_8_masks_per_pass_over_deepcopy_resnet18: {statistics.median(r[1] for r in ratios):.2f}", flush=True)
    x, y = data.test.x[:R18_EXAMPLES], data.test.y[:R18_EXAMPLES]
    t0 = time.time()
    tr = mask_dataset(model, comps, x, y, m=R18_MASKS, seed=0, store=store, batch_size=R18_EXAMPLES)
    held = {a: mask_dataset(model, comps, x, y, m=R18_HELDOUT, alpha=a, seed=s, store=store,
                             batch_size=R18_EXAMPLES)
            for a, s in ((0.05, 1), (0.025, 2), (0.1, 3))}
    print(f"resnet18_mask_seconds: {(time.time() - t0) / (R18_MASKS + 3 * R18_HELDOUT):.3f}", flush=True)
    ms, te = ms_up_to(R18_MASKS), held[0.05]
    t0 = time.time()
    curve = sample_efficiency(tr, te, ms=ms, methods=('coar', 'coar_least_squares', 'extracted_linear'), **GRID)
    print(f"# curve fitted in {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    each = list(range(R18_PER_EXAMPLE))
    rows = []
    for m in ms:   # one network per example on a few examples, against COAR's per-example LDS on the same ones
        sub = tr[:m].select(each)
        for meth, fit in (('coar', fit_coar),
                          ('extracted_linear', lambda d: fit_extracted_linear(d, per_example=True, **GRID_EACH))):
            s = component_lds(fit(sub), te.select(each))
            rows.append(dict(m=m, method=meth, spearman=s['spearman'], pearson=s['pearson']))
    per_ex = pd.DataFrame(rows)
    print(curve.pivot(index='m', columns='method', values=['spearman', 'pearson']).round(3).to_string(),
          file=sys.stderr)
    print(per_ex.pivot(index='m', columns='method', values='spearman').round(3).to_string(), file=sys.stderr)
    if os.environ.get('BENCH_COMPONENTS_TABLE'):
        pd.concat([curve.assign(examples='all'), per_ex.assign(examples=f'first {R18_PER_EXAMPLE}, one network each')]
                  ).to_csv(os.environ['BENCH_COMPONENTS_TABLE'], index=False)
    need = passes_to_reach(curve[curve.method.isin(['coar', 'extracted_linear'])]).set_index('level')
    need_each = passes_to_reach(per_ex).set_index('level')
    print(need.round(3).to_string(), need_each.round(3).to_string(), sep='\n', file=sys.stderr)
    for lv in (0.3, 0.4, 0.5):
        print(f"resnet18_passes_saved_lds_{lv}: {need.loc[lv, 'saved_by_extracted']:.3f}", flush=True)
    for lv in (0.3, 0.4, 0.5):
        print(f"resnet18_per_example_passes_saved_lds_{lv}: {need_each.loc[lv, 'saved_by_extracted']:.3f}", flush=True)
    fits = dict(coar=fit_coar_least_squares(tr), coar_ridge=fit_coar(tr))
    for name, f in fits.items():
        for a in (0.025, 0.05, 0.1):
            print(f"resnet18_{name}_pearson_alpha_{a * 100:g}: {component_lds(f, held[a])['pearson']:.3f}", flush=True)

def main():
    data = load_fashion_mnist()
    if 'small' in PARTS: small(data)
    if 'resnet18' in PARTS: resnet18(data, ArtifactStore(os.environ.get('BENCH_STORE') or tempfile.mkdtemp()))

if __name__ == '__main__': main()
