"""Concept backpropagation benchmarks (the backprop notebook's tabular setting).

- `tabular_seconds_per_row`: wall time of `concept_backprop` (300 Adam steps, L2, bounded to the training range) on
  200 California-housing test rows optimised together, divided by 200; median over REPEATS, on member 0.
- Over SEEDS MLPs trained by the notebook's recipe (members of one `train_ensemble`, differing only in their seed), with
  the 200 rows maximised to the 95th percentile of bedrooms per person through each member's act2 probe:
  - `entanglement_corr_mean` / `_min`: the correlation of the changes in bedrooms per person and rooms per person
    (original units), averaged over the MLPs, and the lowest;
  - `rooms_rose_mean` / `_min`: the share of rows whose rooms per person rose;
  - `concept_r2_act2_mean` / `_min` / `_max`: how linearly readable the concept is at act2, which varies most
    with the seed.
  Each MLP's values go to stderr.
"""
import os, statistics, sys, time, warnings
warnings.filterwarnings('ignore')
import pandas as pd
from concept_attrib.data import load_california_housing, california_split, concept_dataset
from concept_attrib.models import TabularMLP, train_ensemble
from concept_attrib.probes import concept_features, layer_probes, probe_metrics
from concept_attrib.backprop import concept_backprop, entanglement

REPEATS = int(os.environ.get('BENCH_REPEATS', 3))
SEEDS = int(os.environ.get('BENCH_SEEDS', 10))

def main():
    housing = load_california_housing()
    bpp = concept_dataset('bedrooms_per_person', housing)
    mlps = train_ensemble(TabularMLP(n_in=8), california_split(housing), members=SEEDS, epochs=30,
                          batch_size=128, lr=0.02, progress=False)
    rows, target = bpp.x_test[:200], bpp.c_train.quantile(0.95).item()
    box = (bpp.x_train.min(0).values, bpp.x_train.max(0).values)
    per = []
    for i, mlp in enumerate(mlps.models):
        feats = concept_features(mlp, bpp, 'act2', probe_train=8000, probe_test=2000)
        probe = layer_probes(feats, bpp, 'act2')[None]
        if i == 0:
            times = []
            for _ in range(REPEATS):
                t0 = time.perf_counter()
                concept_backprop(mlp, probe, rows, target, lam1=1.0, lam2=0.05, steps=300, lr=0.05,
                                 bounds=box, progress=False)
                times.append((time.perf_counter() - t0) / len(rows))
            t0 = time.perf_counter()
            concept_backprop(mlp, probe, rows[:1], target, lam1=1.0, lam2=0.05, steps=300, lr=0.05,
                             bounds=box, progress=False)
            print(f"# one row alone: {time.perf_counter() - t0:.3f}s; 200 rows together: {times}", file=sys.stderr)
            print(f"tabular_seconds_per_row: {statistics.median(times):.4f}", flush=True)
        res = concept_backprop(mlp, probe, rows, target, lam1=1.0, lam2=0.05, steps=300, lr=0.05, bounds=box,
                               progress=False)
        per.append(dict(seed=mlps.configs[i]['seed'], house_value_r2=mlps.test_metrics[i],
                        concept_r2_act2=probe_metrics(probe, feats.test['act2'],
                                                      bpp.c_test[feats.test_idx])['r2'],
                        **entanglement(res, bpp)))
    df = pd.DataFrame(per).drop(columns='n')
    print(df.round(3).to_string(index=False), file=sys.stderr)
    print(f"entanglement_corr_mean: {df['corr'].mean():.3f}\n"
          f"entanglement_corr_min: {df['corr'].min():.3f}", flush=True)
    print(f"rooms_rose_mean: {df.rooms_rose.mean():.3f}\nrooms_rose_min: {df.rooms_rose.min():.3f}", flush=True)
    print(f"concept_r2_act2_mean: {df.concept_r2_act2.mean():.3f}\n"
          f"concept_r2_act2_min: {df.concept_r2_act2.min():.3f}\n"
          f"concept_r2_act2_max: {df.concept_r2_act2.max():.3f}", flush=True)

if __name__ == '__main__': main()
