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

- Cheaper members and the exact kernel (`variants`): every member below is featurised once on its own (its scores
  without the loss weight at each λ scale of LAMBDA_GRID, from the eigendecomposition of its n × n kernel ΦΦᵀ, and its
  loss weights), and a variant's scores with T trained models are its members' mean times their mean loss weight, as
  `TRAK` forms them. Variants: independent members (proj_dim 512, 2048, averaged over 4 projection seeds, and with
  traker's per-member scaling of (ΦᵀΦ + λI)⁻¹, which `TRAK` no longer applies), checkpoints of each run (epochs 8-10,
  6-10, 2-10), 4 weight-dropout copies (p 0.1) or 4 weight-noise copies (sigma 0.05) of each trained model, and the
  exact kernel (`proj_dim=None`) alone and over checkpoints 6-10. A member's featurisation cost is the median time of
  the members with its projection.
  `lambda_scale_best`: the λ scale with the best mean LDS over variants and trained models; `lambda_scale_default`:
  the library's (`LAMBDA_SCALE`), at which the lines below are read. `lds_trak_10_traker_scaling`: 10 independent
  members with traker's scaling and λ scale 0.1 (TRAK-10 before these variants). `lds_best_10`: the best variant with
  10 trained models, `best_10_featurize_over_trak_10` its featurisation cost over TRAK-10's, `lds_best_10_within_2x`
  the best at no more than twice that cost; `trained_models_to_match_trak_10`: the fewest trained models with which
  some variant comes within 0.01 of `lds_trak_10_traker_scaling`; `featurize_seconds_per_member` (proj_dim 512) and
  `_exact`: one member's featurisation. The full table (LDS and its standard error over targets, and the difference
  from independent members with the same trained models and λ, paired target by target, with its standard error; per
  variant, trained models and λ scale) goes to BENCH_TRAK_TABLE; the '#' lines show LDS±se (difference±se).

Medians over REPEATS for the timings.
"""
import os, sys, time, statistics, tempfile, warnings, shutil
# this file is named trak.py: keep its folder off the path so that `import trak` finds the traker package
warnings.filterwarnings('ignore')
import numpy as np, torch
from concept_attrib.core import ArtifactStore
from concept_attrib.data import load_fashion_mnist
from concept_attrib.models import SmallResNet, train_ensemble
from concept_attrib.attribution import (TRAK, lds_ground_truth, lds, weight_dropout_copies, perturbed_copies,
                                        LAMBDA_SCALE)

N_TRAIN = int(os.environ.get('BENCH_N_TRAIN', 1000))
PROJ_DIM = int(os.environ.get('BENCH_PROJ_DIM', 2048))
REPEATS = int(os.environ.get('BENCH_REPEATS', 5))
LAMBDA_GRID = (0.01, 0.03, 0.1, 0.2, 0.3, 0.5, 1.0, 3.0)
SEED = int(os.environ.get('BENCH_SEED', 0))   # the ensemble's seed
TABLE = os.environ.get('BENCH_TRAK_TABLE', 'bench/trak_variants.csv')
VARIANT_MODELS = int(os.environ.get('BENCH_VARIANT_MODELS', 10))
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
                         progress=False, keep_epochs=[2, 4, 6, 8], seed=SEED)
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
    variants(ens, data, idx, x, y, gt)

def member_scores(model, data, idx, x, y, proj_dim, seed, traker_scale=False):
    """One member's scores without the loss weight at each λ scale {c: (n, m)}, its loss weights, featurisation seconds;
    with `traker_scale`, also (keyed (c, 'traker')) the scores times 1 / mean |(ΦᵀΦ + λI)⁻¹|, as traker's `finalize_features` scales them."""
    tmp = tempfile.mkdtemp()
    try:
        t = TRAK([model], data, train_idx=idx, proj_dim=proj_dim, seed=seed, store=ArtifactStore(tmp), progress=False)
        t0 = time.perf_counter(); t.featurize(); secs = time.perf_counter() - t0
        own = t.score(x, y, loss_weighted=False).clone()
        exp, m = t.experiment
        phi, tg = t._member_store(0, 'grads'), t._member_store(0, f'{exp}_grads', exp, m)
        w = t._member_store(0, 'out_to_loss').reshape(-1).float()
    finally: shutil.rmtree(tmp, ignore_errors=True)
    K = phi @ phi.T; ev, U = torch.linalg.eigh(K); B = U.T @ (phi @ tg.T); tr = K.trace()
    lam = {c: c * tr / min(phi.shape) for c in LAMBDA_GRID}   # 'auto': the mean of the kernel's non-zero eigenvalues
    out = {c: (U @ (B / (ev.clamp(min=0) + lam[c])[:, None])).float() for c in LAMBDA_GRID}
    err = ((out[LAMBDA_SCALE] - own).abs().max() / own.abs().max()).item()
    assert err < 1e-3, f"the eigendecomposition's scores differ from TRAK's by {err:.2e}"
    if traker_scale:
        eye = torch.eye(phi.shape[1], dtype=phi.dtype)
        out |= {(c, 'traker'): out[c] / torch.linalg.inv(phi.T @ phi + lam[c] * eye).abs().mean().item() for c in lam}
    return out, w, secs

def catalogue(ens, i):
    "Trained model i's members: name -> (model, proj_dim, projection seed)."
    m, kept = ens.models[i], ens.checkpoints[i]
    ck = lambda e: ens.checkpoint_models([e])[i] if e in kept else m
    mem = {'final': (m, 512, i), 'proj2048': (m, 2048, i), 'exact': (m, None, i)}
    for r in (1, 2, 3): mem[f'seed{r}'] = (m, 512, 100 * r + i)
    for e in (2, 4, 6, 8): mem[f'ckpt{e}'] = (ck(e), 512, 1000 * e + i)
    for e in (6, 8): mem[f'exact_ckpt{e}'] = (ck(e), None, i)
    for j, c in enumerate(weight_dropout_copies(m, 4, p=0.1, seed=i)): mem[f'drop{j}'] = (c, 512, 10_000 + 10 * i + j)
    for j, c in enumerate(perturbed_copies(m, 4, sigma=0.05, seed=i)): mem[f'noise{j}'] = (c, 512, 20_000 + 10 * i + j)
    return mem

VARIANTS = {   # variant -> (members per trained model, members' projection kind)
    'independent': ['final'], "independent, traker's scaling": ['final'],   # the same members, traker's scaling
    'independent, proj_dim 2048': ['proj2048'],
    'projection seeds x4': ['final', 'seed1', 'seed2', 'seed3'],
    'checkpoints 8-10': ['ckpt8', 'final'], 'checkpoints 6-10': ['ckpt6', 'ckpt8', 'final'],
    'checkpoints 2-10': ['ckpt2', 'ckpt4', 'ckpt6', 'ckpt8', 'final'],
    'weight dropout x4': ['drop0', 'drop1', 'drop2', 'drop3'], 'weight noise x4': ['noise0', 'noise1', 'noise2', 'noise3'],
    'exact kernel': ['exact'], 'exact kernel, checkpoints 6-10': ['exact_ckpt6', 'exact_ckpt8', 'exact']}

def variants(ens, data, idx, x, y, gt):
    import pandas as pd
    from tqdm.auto import tqdm
    res, secs = {}, {}
    for i in tqdm(range(VARIANT_MODELS), desc='trained models', file=sys.stderr):
        for name, (m, pd_, seed) in catalogue(ens, i).items():
            res[i, name] = member_scores(m, data, idx, x, y, pd_, seed, traker_scale=name == 'final')
            secs[i, name] = res[i, name][2], pd_
    # a member's featurisation cost: the median time of the members with its projection (less noisy than its own)
    med = {pd_: statistics.median(t for t, q in secs.values() if q == pd_) for _, pd_ in secs.values()}
    rows, base = [], {}
    for v, names in VARIANTS.items():     # 'independent' first: the others are paired with it, target by target
        for T in range(1, VARIANT_MODELS + 1):
            keys = [(i, nm) for i in range(T) for nm in names]
            w = torch.stack([res[k][1] for k in keys]).mean(0)
            for c in LAMBDA_GRID:
                key = (c, 'traker') if 'traker' in v else c
                s = torch.stack([res[k][0][key] for k in keys]).mean(0) * w[:, None]
                r = lds(s, gt); pt = np.asarray(r['per_target'], dtype=float)
                d = pt - base.setdefault((T, c), pt)
                rows.append(dict(variant=v, trained=T, members=len(keys), lambda_scale=c, lds=r['lds'],
                                 se=float(np.nanstd(pt) / np.sqrt(np.isfinite(pt).sum())),
                                 over_independent=float(np.nanmean(d)),
                                 over_independent_se=float(np.nanstd(d) / np.sqrt(np.isfinite(d).sum())),
                                 featurize_s=sum(med[secs[k][1]] for k in keys), per_target=pt))
    tab = pd.DataFrame(rows); tab.drop(columns='per_target').to_csv(TABLE, index=False)
    report(tab, med)

def report(tab, med):
    "The benchmark's lines from the table of every variant, number of trained models and λ scale."
    T10, scaled = tab.trained.max(), tab.variant == "independent, traker's scaling"
    means = tab[~scaled].groupby('lambda_scale').lds.mean()
    print(f"# mean LDS over variants and trained models by lambda scale: "
          f"{', '.join(f'{c}: {v:.4f}' for c, v in means.items())}; table in {TABLE}", file=sys.stderr)
    print(f"lambda_scale_best: {means.idxmax()}", flush=True)
    print(f"lambda_scale_default: {LAMBDA_SCALE}", flush=True)
    # before: traker's per-member scaling, λ scale 0.1, 10 independent members (what lds_trak_10 measured)
    before = tab[scaled & (tab.lambda_scale == 0.1) & (tab.trained == T10)].iloc[0]
    print(f"lds_trak_10_traker_scaling: {before.lds:.4f}", flush=True)
    at = tab[(tab.lambda_scale == LAMBDA_SCALE) & ~scaled]
    for T in sorted({1, 2, 3, 5, T10} & set(at.trained)):
        print('# ' + ', '.join(f"{r.variant} {r.lds:.3f}±{r.se:.3f} ({r.over_independent:+.3f}±{r.over_independent_se:.3f})"
                               for r in at[at.trained == T].itertuples()),
              f'({T} trained, lambda scale {LAMBDA_SCALE})', file=sys.stderr)
    ten = at[at.trained == T10].sort_values('lds'); top = ten.iloc[-1]
    print(f"# best with {T10} trained: {top.variant}", file=sys.stderr)
    print(f"lds_best_10: {top.lds:.4f}", flush=True)
    print(f"best_10_featurize_over_trak_10: {top.featurize_s / before.featurize_s:.2f}", flush=True)
    cheap = ten[ten.featurize_s <= 2 * before.featurize_s].iloc[-1]
    print(f"# best with {T10} trained within twice TRAK-10's featurisation: {cheap.variant} "
          f"({cheap.featurize_s / before.featurize_s:.2f}x)", file=sys.stderr)
    print(f"lds_best_10_within_2x: {cheap.lds:.4f}", flush=True)
    ok = at[at.lds >= before.lds - 0.01]
    print(f"trained_models_to_match_trak_10: {int(ok.trained.min()) if len(ok) else 'nan'}", flush=True)
    paired = lambda a, b: (np.nanmean(a.per_target - b.per_target),
                           np.nanstd(a.per_target - b.per_target) / np.sqrt(len(a.per_target)))
    if len(ok):
        first = ok[ok.trained == ok.trained.min()].sort_values('lds').iloc[-1]
        print(f"# first match: {first.variant} with {first.trained} trained, LDS {first.lds:.4f}; minus TRAK-10, paired "
              "over targets: {:+.4f} ± {:.4f}".format(*paired(first, before)), file=sys.stderr)
    for r in (top, cheap): print(f"# {r.variant} ({T10} trained) minus TRAK-10, paired over targets: "
                                 "{:+.4f} ± {:.4f}".format(*paired(r, before)), file=sys.stderr)
    print(f"featurize_seconds_per_member: {med[512]:.2f}", flush=True)
    print(f"featurize_seconds_per_member_exact: {med[None]:.2f}", flush=True)

if __name__ == '__main__': main()
