"""Planted-concept benchmarks: attribution against a known origin, and the counterfactual check's positive control.

A 4×4 checkerboard is stamped in the bottom-right corner of 3% of the first 2,000 Fashion-MNIST training images
(drawn across classes), relabelled to Bag (the backdoor variant) or left with their labels (the neutral variant).
Per seed (SEEDS of them): an ensemble of 4 width-8 ResNets trained 8 epochs; the pattern probe on the layer where
training added most over the untrained network (`gain_layer`); TRAK of that probe's output on 100 stamped held-out
images of other classes (proj_dim 512); each attribution's mean score over the targets ranks the training images.

- `planted_precision_at_s_<method>`, `planted_auc_<method>`: the share of S among the top |S| and the ROC AUC of
  S, median over seeds, for TRAK as traker scores it (`trak`), TRAK without the loss weight (`trak_unweighted`),
  gradient dot products on the same members and projection (`graddot`), representation similarity in the probed
  layer (`repsim`), and random scores (`random`); `_neutral` lines are the neutral variant's.
- `planted_precision_at_s_trak_unweighted_at_<layer>`: the same precision for TRAK without the loss weight of the
  pattern probe on each of the last blocks, whichever layer `gain_layer` chose.
- `planted_counterfactual_drop`: backdoor success rate after removing the top-|S| of TRAK without the loss weight,
  minus after removing |S| random images (3 draws), 3 retrainings each: median over the seeds' plantings, and each
  seed's 95% interval;
  `planted_counterfactual_drop_trak`: the same for TRAK with the loss weight.
- `planted_probe_gain_drop`: the same difference for what training added to the pattern probe.
- `counterfactual_detectable_effect`: the smallest difference in backdoor success (and, `_probe_gain`, in the probe's
  gain) that this check finds with 80% power at these settings, from the same retrainings.
"""
import os, statistics, sys, time, warnings
warnings.filterwarnings('ignore')
import tempfile
import torch
from concept_attrib.core import ArtifactStore, seed_generator
from concept_attrib.data import load_fashion_mnist, plant_pattern
from concept_attrib.models import SmallResNet, train_ensemble
from concept_attrib.probes import concept_features, layer_probes
from concept_attrib.attribution import TRAK, representation_similarity, recovery
from concept_attrib.counterfactual import probe_gain, gain_layer, planted_control, backdoor_success

SEEDS = int(os.environ.get('BENCH_SEEDS', 3))
N, MEMBERS, EPOCHS, TARGET = 2000, 4, 8, 8

def attribute(data, seed, target, store):
    "Train, choose the layer, and rank the training images by every method; returns the planting, rankings, layer."
    pl = plant_pattern(data, torch.arange(N), share=0.03, target=target, seed=seed)
    ens = train_ensemble(SmallResNet(width=8), pl.data, members=MEMBERS, seed=100 * seed, epochs=EPOCHS,
                         store=store, progress=False)
    layer = gain_layer(probe_gain(SmallResNet(width=8), ens, pl.concept, probe_train=1000, probe_test=1000))
    trak = TRAK(ens, pl.data, proj_dim=512, store=store, progress=False).featurize()
    feats = concept_features(ens.models[0], pl.concept, [layer], probe_train=2000, probe_test=1000)
    probe = layer_probes(feats, pl.concept, layer)[None]
    tx, ty = pl.stamped.x[:100], pl.stamped.y[:100]
    ranks = dict(trak=trak.score(tx, ty, probe=probe).mean(1), trak_unweighted=trak.from_store().mean(1),
                 graddot=trak.from_store(kernel=False).mean(1),
                 repsim=representation_similarity(ens, pl.data.train.x, tx, layer).mean(1),
                 random=torch.randn(N, generator=seed_generator(seed, 'random-ranking')))
    succ = statistics.mean(backdoor_success(m, pl) for m in ens.models) if target is not None else float('nan')
    per_layer = {}
    for L in ('stage2.0', 'stage3.0', 'fc'):   # TRAK without the loss weight, from the pattern probe of each layer
        f = concept_features(ens.models[0], pl.concept, [L], probe_train=2000, probe_test=1000)
        trak.score(tx, ty, probe=layer_probes(f, pl.concept, L)[None])
        per_layer[L] = recovery(trak.from_store(), pl.truth)['precision_at_s']
    return pl, ranks, layer, succ, per_layer

def main():
    data, store = load_fashion_mnist(), ArtifactStore(tempfile.mkdtemp())
    backdoors = []
    for variant, target in (('', TARGET), ('_neutral', None)):
        rec, by_layer = {}, {}
        for seed in range(SEEDS):
            t0 = time.perf_counter()
            pl, ranks, layer, succ, per_layer = attribute(data, seed, target, store)
            for L, v in per_layer.items(): by_layer.setdefault(L, []).append(v)
            if target is not None: backdoors.append((pl, ranks, layer))
            for k, v in ranks.items(): rec.setdefault(k, []).append(recovery(v, pl.truth))
            print(f"# {variant or '_backdoor'} seed {seed}: layer {layer}, backdoor success {succ:.3f}, "
                  + ", ".join(f"{k} {r[-1]['precision_at_s']:.2f}/{r[-1]['auc']:.3f}" for k, r in rec.items())
                  + f"; per layer {per_layer} ({time.perf_counter() - t0:.0f}s)", file=sys.stderr, flush=True)
        for L, v in by_layer.items():
            print(f"planted_precision_at_s_trak_unweighted_at_{L}{variant}: {statistics.median(v):.3f} "
                  f"(min {min(v):.3f}, max {max(v):.3f})")
        for k, r in rec.items():
            p = [x['precision_at_s'] for x in r]; a = [x['auc'] for x in r]
            print(f"planted_precision_at_s_{k}{variant}: {statistics.median(p):.3f} "
                  f"(min {min(p):.3f}, max {max(p):.3f})")
            print(f"planted_auc_{k}{variant}: {statistics.median(a):.3f} (min {min(a):.3f}, max {max(a):.3f})",
                  flush=True)
    rows = {}
    for seed, (pl, ranks, layer) in enumerate(backdoors):
        t0 = time.perf_counter()
        ctrl = planted_control(SmallResNet(width=8), pl, {k: ranks[k] for k in ('trak', 'trak_unweighted')}, layer,
                               draws=3, retrainings=3, epochs=EPOCHS, workers=2, store=store, progress=False)
        s = ctrl.summary().set_index(['ranking', 'measure'])
        print(f"# control, seed {seed}: {ctrl} in {time.perf_counter() - t0:.0f}s\n{s.round(3).to_string()}",
              file=sys.stderr, flush=True)
        for key, idx in (('planted_counterfactual_drop', ('trak_unweighted', 'success')),
                         ('planted_counterfactual_drop_trak', ('trak', 'success')),
                         ('planted_probe_gain_drop', ('trak_unweighted', 'probe_gain'))):
            rows.setdefault(key, []).append(s.loc[idx])
        rows.setdefault('counterfactual_detectable_effect', []).append(s.loc[('trak_unweighted', 'success')])
        rows.setdefault('counterfactual_detectable_effect_probe_gain', []).append(
            s.loc[('trak_unweighted', 'probe_gain')])
    for key, rs in rows.items():
        if key.startswith('counterfactual_detectable'):
            v = [r.detectable for r in rs]
            print(f"{key}: {statistics.median(v):.3f} (min {min(v):.3f}, max {max(v):.3f})")
            continue
        d = [r['diff'] for r in rs]
        print(f"{key}: {statistics.median(d):+.3f} (95% intervals per seed: "
              + ", ".join(f"[{r.ci_low:+.3f}, {r.ci_high:+.3f}]" for r in rs) + ")", flush=True)

if __name__ == '__main__': main()
