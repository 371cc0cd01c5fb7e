"""Counterfactual benchmarks.

- `local_parallel_speedup`: the same 8 retrain-and-probe jobs, each the size of one in the counterfactual notebook
  (a width-8 model trained 10 epochs on 1,800 of the first 2,000 Fashion-MNIST images, then footwear and high-low
  frequency probed on every layer), run by `run_jobs` in 2 worker processes with one torch thread each, against
  one process running them one after another with torch's default threads; time of the one process / time of the
  workers, median over REPEATS, both timed in the same run.
"""
import os, statistics, sys, time, warnings
warnings.filterwarnings('ignore')
import torch
from concept_attrib.core import seed_generator
from concept_attrib.data import load_fashion_mnist
from concept_attrib.models import SmallResNet
from concept_attrib.parallel import run_jobs
from concept_attrib.counterfactual import retrain_and_probe

REPEATS = int(os.environ.get('BENCH_REPEATS', 3))

def main():
    data = load_fashion_mnist()
    jobs = [dict(model=SmallResNet(width=8), data=data, seeds=[s],
                 member_idx=[torch.randperm(2000, generator=seed_generator(s, 'subset'))[:1800]],
                 concepts=['footwear', 'high_low_frequency'], epochs=10, batch_size=64, probe_train=2000,
                 probe_test=1000) for s in range(8)]
    ratios = []
    for rep in range(REPEATS):
        t0 = time.perf_counter(); one = run_jobs(retrain_and_probe, jobs, workers=1, progress=False)
        t_one = time.perf_counter() - t0
        t0 = time.perf_counter(); two = run_jobs(retrain_and_probe, jobs, workers=2, progress=False)
        t_two = time.perf_counter() - t0
        ratios.append(t_one / t_two)
        print(f"# repeat {rep+1}: one process ({torch.get_num_threads()} threads) {t_one:.1f}s, "
              f"2 one-thread workers {t_two:.1f}s, ratio {t_one/t_two:.2f}; "
              f"task accuracy {one[0][0]['task']:.4f} vs {two[0][0]['task']:.4f}",
              file=sys.stderr, flush=True)
    print(f"local_parallel_speedup: {statistics.median(ratios):.2f}", flush=True)

if __name__ == '__main__': main()
