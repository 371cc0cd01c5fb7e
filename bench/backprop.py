"""Concept backpropagation benchmarks (the backprop notebook's tabular setting), each from one run.

- `tabular_seconds_per_row`: wall time of `concept_backprop` (300 Adam steps, L2, bounded to the training range) on
  200 California-housing test rows optimised together, divided by 200; median over REPEATS.
- `entanglement_corr`: over those 200 rows maximised to the 95th percentile of bedrooms per person, the correlation
  of the changes in bedrooms per person and rooms per person (original units).
"""
import os, statistics, sys, time, warnings
sys.path = [p for p in sys.path if os.path.abspath(p or os.curdir) != os.path.dirname(os.path.abspath(__file__))]   # bench/trak.py would shadow traker
warnings.filterwarnings('ignore')
from concept_attrib.data import load_california_housing, california_split, concept_dataset
from concept_attrib.models import TabularMLP, train
from concept_attrib.probes import concept_features, layer_probes
from concept_attrib.backprop import concept_backprop, entanglement

REPEATS = int(os.environ.get('BENCH_REPEATS', 3))

def main():
    housing = load_california_housing()
    bpp = concept_dataset('bedrooms_per_person', housing)
    mlp = train(TabularMLP(n_in=8), california_split(housing), epochs=30, batch_size=128, lr=0.05, progress=False).model
    probe = layer_probes(concept_features(mlp, bpp, 'act2', n_train=8000, n_test=2000), bpp, 'act2')[None]
    rows, target = bpp.x_test[:200], bpp.c_train.quantile(0.95).item()
    box = (bpp.x_train.min(0).values, bpp.x_train.max(0).values)
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        res = concept_backprop(mlp, probe, rows, target, lam1=1.0, lam2=0.05, steps=300, lr=0.05, bounds=box, progress=False)
        times.append((time.perf_counter() - t0) / len(rows))
    t0 = time.perf_counter(); concept_backprop(mlp, probe, rows[:1], target, lam1=1.0, lam2=0.05, steps=300, lr=0.05, bounds=box, progress=False)
    print(f"# one row alone: {time.perf_counter() - t0:.3f}s; 200 rows together: {times}", file=sys.stderr)
    print(f"tabular_seconds_per_row: {statistics.median(times):.4f}", flush=True)
    ent = entanglement(res, bpp)
    print(f"# {ent}", file=sys.stderr)
    print(f"entanglement_corr: {ent['corr']:.3f}", flush=True)

if __name__ == '__main__': main()
