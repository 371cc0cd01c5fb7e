"""Ensemble training against a plain sequential loop over the same members.

Both sides train K=8 SmallResNet members (seeds 0..7) for the same epochs on the same Fashion-MNIST examples with
the same settings, and measure each member on the 10,000 test images. The loop calls `train` once per member in this
process (torch's default threads); the ensemble calls `train_ensemble` with its defaults (stacks of members, side by
side on one thread per core). They are timed back to back, REPEATS (5) times, and the median ratio is printed:

- `ensemble_speedup`: the recipe of the attribution ensembles and of `make demo` (`PipelineConfig`): width-8
  members, 3,000 images, 10 epochs, batch 64;
- `ensemble_speedup_2_epochs`: the same members for 2 epochs on 4,000 images, where the test-set evaluation, which
  costs both sides the same, is a fifth of the ensemble's time;
- `ensemble_speedup_width16_batch128`: the width-16 model at batch 128, where each convolution already fills the CPU.
"""
import os, sys, time, statistics
import torch
from concept_attrib.data import load_fashion_mnist
from concept_attrib.models import SmallResNet, train, train_ensemble

K = 8
REPEATS = int(os.environ.get('BENCH_REPEATS', 5))
WORKERS = int(os.environ.get('BENCH_WORKERS', 1))
STACK = int(os.environ.get("BENCH_STACK", 0))  # 0: the library default (default_stack)

def speedup(data, width, batch_size, n_train, epochs, label):
    idx = torch.arange(n_train); ratios = []
    kw = dict(epochs=epochs, train_idx=idx, batch_size=batch_size)
    for rep in range(REPEATS):
        t0 = time.perf_counter()
        seq = [train(SmallResNet(width=width), data, seed=s, progress=False, **kw).test_metric for s in range(K)]
        t_seq = time.perf_counter() - t0
        t0 = time.perf_counter()
        ens = train_ensemble(SmallResNet(width=width), data, members=K, stack=STACK or None, workers=WORKERS,
                             progress=False, **kw)
        t_ens = time.perf_counter() - t0
        ratios.append(t_seq / t_ens)
        print(f"# {label} repeat {rep+1}: sequential {t_seq:.1f}s, ensemble {t_ens:.1f}s, ratio {t_seq/t_ens:.2f}; "
              f"mean test accuracy {sum(seq)/K:.4f} vs {sum(ens.test_metrics)/K:.4f}", file=sys.stderr, flush=True)
    return statistics.median(ratios)

def main():
    data = load_fashion_mnist()
    print(f"ensemble_speedup: {speedup(data, 8, 64, 3000, 10, 'width 8, batch 64, 10 epochs on 3000'):.2f}", flush=True)
    if os.environ.get("BENCH_ONLY_W8"): return
    print(f"ensemble_speedup_2_epochs: "
          f"{speedup(data, 8, 64, 4000, 2, 'width 8, batch 64, 2 epochs on 4000'):.2f}", flush=True)
    print(f"ensemble_speedup_width16_batch128: "
          f"{speedup(data, 16, 128, 4000, 2, 'width 16, batch 128, 2 epochs on 4000'):.2f}", flush=True)

if __name__ == '__main__': main()
