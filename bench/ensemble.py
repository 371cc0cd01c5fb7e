"""Ensemble training against a plain sequential loop over the same members.

Both train K=8 SmallResNet members (seeds 0..7) for the same epochs on the same Fashion-MNIST examples with the
same settings: the loop calls `train` once per member in this process (torch's default threads); the ensemble
calls `train_ensemble`. The two are timed back to back, `REPEATS` times, and the median ratio is printed.
"""
import os, sys, time, statistics, tempfile
import torch
from concept_attrib.data import load_fashion_mnist
from concept_attrib.models import SmallResNet, train, train_ensemble

WORKERS = int(os.environ.get("BENCH_WORKERS", 2))
K, EPOCHS, N_TRAIN, REPEATS = 8, 1, int(os.environ.get('BENCH_N_TRAIN', 6000)), int(os.environ.get('BENCH_REPEATS', 3))

def main():
    data = load_fashion_mnist()
    idx = torch.arange(N_TRAIN)
    ratios, seq_s, ens_s = [], [], []
    for rep in range(REPEATS):
        t0 = time.perf_counter()
        seq = [train(SmallResNet(), data, epochs=EPOCHS, train_idx=idx, seed=s, progress=False).test_metric for s in range(K)]
        t_seq = time.perf_counter() - t0
        t0 = time.perf_counter()
        ens = train_ensemble(SmallResNet(), data, members=K, epochs=EPOCHS, train_idx=idx, progress=False, workers=WORKERS)
        t_ens = time.perf_counter() - t0
        ratios.append(t_seq / t_ens); seq_s.append(t_seq); ens_s.append(t_ens)
        print(f"# repeat {rep+1}: sequential {t_seq:.1f}s, ensemble {t_ens:.1f}s, ratio {t_seq/t_ens:.2f}; "
              f"mean acc {sum(seq)/K:.4f} vs {sum(ens.test_metrics)/K:.4f}", file=sys.stderr, flush=True)
    print(f"ensemble_speedup: {statistics.median(ratios):.2f}")
    print(f"ensemble_seconds_sequential_median: {statistics.median(seq_s):.1f}")
    print(f"ensemble_seconds_parallel_median: {statistics.median(ens_s):.1f}")

if __name__ == '__main__': main()
