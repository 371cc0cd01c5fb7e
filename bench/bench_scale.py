"""Scale benchmarks: TRAK on an 11M-parameter model, on 60,000 streamed training images, as Ray jobs, and on CUDA.

- `featurize_over_grad_resnet18`: TRAK featurisation time (per-example gradients, sparse projection to `proj_dim`,
  loss terms, storing) over the per-example gradient time alone, torchvision ResNet-18 (11M parameters) on 3x32x32
  inputs, same examples, same run; median over REPEATS paired runs. Goal <= 1.3.
  `featurize_over_traker_resnet18` is traker's own CPU path (its gradient computer and Gaussian projector) over the
  same gradient time, for information.
- `featurize_60k_peak_rss_gb`: peak resident memory of a process that featurises all 60,000 Fashion-MNIST training
  images for one SmallResNet member, read from a torch `Dataset` over the (memory-mapped) image file;
  `score_60k_x_1k_peak_rss_gb` of a process that scores 1,000 targets against them. Goal: each <= 3 GB.
  `featurize_60k_seconds` is how long the first took.
- `train_60k_streamed_peak_rss_gb`: peak resident memory of a process that trains a SmallResNet for one epoch on all
  60,000 images from the same `Dataset`, kept as a dataset (`as_data(..., stream=True)`); then, in the same process,
  `train_streamed_over_tensors`: that epoch's time over the time of the same epoch on the images read into tensors.
- `ray_featurize_speedup`: 4 SmallResNet members featurised on all 60,000 training images as Ray jobs on a local head
  (one thread per worker, as many workers as cores) against one process with all cores, same examples, same run;
  median over RAY_REPEATS. The two
  times (`ray_featurize_seconds_*`, Ray's timed from a running head, its workers' start included) are printed beside it.
- Where CUDA is present: `cuda_over_cpu_featurize` (CPU time over CUDA time, same members and examples) and
  `cuda_cpu_score_pearson` (scores on CUDA against the CPU's, TF32 off); `nan` without CUDA.
"""
import gzip, os, resource, shutil, statistics, subprocess, sys, tempfile, time, warnings
warnings.filterwarnings('ignore')
import numpy as np, torch

REPEATS = int(os.environ.get('BENCH_REPEATS', 3))
RAY_REPEATS = int(os.environ.get('BENCH_RAY_REPEATS', 2))
N_RESNET = int(os.environ.get('BENCH_N_RESNET', 32))
N_RAY = int(os.environ.get('BENCH_N_RAY', 60000))
N_STREAM = int(os.environ.get('BENCH_N_STREAM', 60000))
HERE = os.path.abspath(__file__)


class IdxImages(torch.utils.data.Dataset):
    "Fashion-MNIST read image by image from a memory-mapped IDX file: nothing held as one tensor."
    def __init__(self, images, labels, n=None):
        self.x = np.memmap(images, dtype=np.uint8, mode='r', offset=16).reshape(-1, 28, 28)
        self.y = np.frombuffer(gzip.open(labels).read()[8:], dtype=np.uint8)
        self.n = min(n or len(self.y), len(self.y))
    def __len__(self): return self.n
    def __getitem__(self, i):
        return torch.from_numpy(self.x[i].astype(np.float32) / 255.).unsqueeze(0), int(self.y[i])


def fashion_files(tmp):
    "The training images unpacked to a file in `tmp` (for the memory map), and the labels file."
    src = '/usr/share/datasets/fashion-mnist'
    if not os.path.isdir(src):
        from concept_attrib.data import data_home
        src = str(data_home()/'fashion_mnist')
    images = os.path.join(tmp, 'train-images-idx3-ubyte')
    if not os.path.exists(images):
        with gzip.open(os.path.join(src, 'train-images-idx3-ubyte.gz')) as f, open(images, 'wb') as g:
            shutil.copyfileobj(f, g)
    return images, os.path.join(src, 'train-labels-idx1-ubyte.gz')


def peak_rss_gb():
    "This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the parent before exec)."
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'): return int(line.split()[1]) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def resnet18_ratios():
    "Featurisation over gradient time on torchvision ResNet-18: ours (sparse projector) and traker's own CPU path."
    import torchvision
    from trak import TRAKer
    from concept_attrib.core import ArtifactStore
    from concept_attrib.attribution import TRAK
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10).eval()
    x, y = torch.rand(N_RESNET, 3, 32, 32), torch.randint(0, 10, (N_RESNET,))
    bs = 8
    batches = [np.arange(i, min(N_RESNET, i + bs)) for i in range(0, N_RESNET, bs)]
    data = ((x, y), (x[:2], y[:2]))
    ours = []
    for _ in range(REPEATS):   # a new TRAK each time: traker skips examples already featurised
        t = TRAK(model, data, proj_dim=512, store=ArtifactStore(tempfile.mkdtemp()), batch_size=bs, progress=False,
                 device='cpu')
        t.traker.load_checkpoint(model.state_dict(), model_id=0)
        gc = t.traker.gradient_computer
        gc.compute_per_sample_grad((x[:2], y[:2]))   # warm up
        t0 = time.perf_counter()
        for b in batches: gc.compute_per_sample_grad((x[b], y[b]))
        t_grad = time.perf_counter() - t0
        t0 = time.perf_counter()
        for b in batches: t.traker.featurize(batch=(x[b], y[b]), inds=b)
        ours.append((time.perf_counter() - t0) / t_grad)
    # traker's own CPU path: its gradient computer and Gaussian projector, the same examples, once
    from trak.modelout_functions import ImageClassificationModelOutput
    own = TRAKer(model=model, task=ImageClassificationModelOutput(), train_set_size=N_RESNET, proj_dim=512,
                 save_dir=tempfile.mkdtemp(), device='cpu', use_half_precision=False, lambda_reg=1.0,
                 logging_level=50)
    own.load_checkpoint(model.state_dict(), model_id=0)
    t0 = time.perf_counter()
    for b in batches: gc.compute_per_sample_grad((x[b], y[b]))
    t_grad = time.perf_counter() - t0
    t0 = time.perf_counter()
    for b in batches: own.featurize(batch=(x[b], y[b]), inds=b)
    return statistics.median(ours), (time.perf_counter() - t0) / t_grad


def stream_child(step, store_dir, tmp):
    "One process: featurise 60,000 streamed images for one member, or score 1,000 targets; prints its peak RSS."
    from concept_attrib.core import ArtifactStore
    from concept_attrib.models import SmallResNet
    from concept_attrib.attribution import TRAK
    torch.manual_seed(0)
    model = SmallResNet(width=8).eval()
    images, labels = fashion_files(tmp)
    t = TRAK(model, IdxImages(images, labels, N_STREAM), proj_dim=512, store=ArtifactStore(store_dir),
             batch_size=250, progress=False, device='cpu')
    t0 = time.perf_counter()
    if step == 'featurize': t.featurize()
    else:
        ds = IdxImages(images, labels, 1000)
        x = torch.stack([ds[i][0] for i in range(1000)]); y = torch.tensor([ds[i][1] for i in range(1000)])
        s = t.score(x, y, loss_weighted=False)
        assert s.shape == (N_STREAM, 1000) and torch.isfinite(s[::997]).all()
    print(f"{peak_rss_gb():.4f} {time.perf_counter() - t0:.1f}")


def train_child(tmp):
    "One process: an epoch on 60,000 streamed images (peak RSS, seconds), then the same epoch on them as tensors."
    from concept_attrib.data import as_data
    from concept_attrib.models import SmallResNet, train
    images, labels = fashion_files(tmp)
    parts = (IdxImages(images, labels, N_STREAM), IdxImages(images, labels, 1000))
    times = {}
    for stream in (True, False):   # streamed first, so that the peak is the streamed run's
        data = as_data(parts, name='fashion_idx', stream=stream)
        t0 = time.perf_counter()
        train(SmallResNet(width=8), data, epochs=1, batch_size=128, progress=False, device='cpu')
        times[stream] = time.perf_counter() - t0
        if stream: rss = peak_rss_gb()
    print(f"{rss:.4f} {times[True]:.1f} {times[False]:.1f}")


def run_child(*args, threads=None):
    env = dict(os.environ, **({'OMP_NUM_THREADS': str(threads)} if threads else {}))
    out = subprocess.run([sys.executable, HERE, *args], capture_output=True, text=True, env=env)
    if out.returncode: raise RuntimeError(out.stderr[-3000:])
    return out.stdout.split()


def members(n):
    from concept_attrib.models import SmallResNet
    ms = []
    for s in range(n):
        torch.manual_seed(s); ms.append(SmallResNet(width=8).eval())
    return ms


def ray_child(mode, store_dir):
    "Featurise 4 members of N_RAY examples in one process ('one') or as Ray jobs ('ray'); prints seconds."
    from concept_attrib.core import ArtifactStore
    from concept_attrib.data import load_fashion_mnist
    from concept_attrib.attribution import TRAK
    fm = load_fashion_mnist()
    t = TRAK(members(4), fm, train_idx=torch.arange(N_RAY), proj_dim=512, store=ArtifactStore(store_dir),
             progress=False, device='cpu')
    if mode == 'ray':
        from concept_attrib.parallel import _ray_init
        _ray_init(None)   # a running head, as on a cluster
    t0 = time.perf_counter()
    t.featurize(backend='ray') if mode == 'ray' else t.featurize()
    print(f"{time.perf_counter() - t0:.2f}")


def cuda_lines():
    if not torch.cuda.is_available(): return float('nan'), float('nan')
    from concept_attrib.core import ArtifactStore, pearson
    from concept_attrib.data import load_fashion_mnist
    from concept_attrib.attribution import TRAK
    torch.backends.cuda.matmul.allow_tf32 = False; torch.backends.cudnn.allow_tf32 = False
    fm = load_fashion_mnist(); idx = torch.arange(N_RAY)
    times, scores = {}, {}
    for dev in ('cpu', 'cuda'):
        t = TRAK(members(2), fm, train_idx=idx, proj_dim=512, store=ArtifactStore(tempfile.mkdtemp()),
                 progress=False, device=dev)
        t0 = time.perf_counter(); t.featurize()
        if dev == 'cuda': torch.cuda.synchronize()
        times[dev] = time.perf_counter() - t0
        scores[dev] = t.score(fm.test.x[:50], fm.test.y[:50], loss_weighted=False).clone()
    return times['cpu'] / times['cuda'], pearson(scores['cpu'].flatten(), scores['cuda'].flatten()).item()


def main():
    tmp = tempfile.mkdtemp(); store = tempfile.mkdtemp()   # the streamed runs first, each in a process of its own
    rss, secs = run_child('stream', 'featurize', store, tmp)
    print(f"featurize_60k_peak_rss_gb: {float(rss):.3f}")
    print(f"featurize_60k_seconds: {float(secs):.0f}")
    print(f"score_60k_x_1k_peak_rss_gb: {float(run_child('stream', 'score', store, tmp)[0]):.3f}")
    rss, streamed, tensors = map(float, run_child('train', tmp))
    print(f"train_60k_streamed_peak_rss_gb: {rss:.3f}")
    print(f"train_streamed_over_tensors: {streamed / tensors:.3f}")
    ones, rays = [], []
    for _ in range(RAY_REPEATS):
        ones.append(float(run_child('ray', 'one', tempfile.mkdtemp())[0]))
        rays.append(float(run_child('ray', 'ray', tempfile.mkdtemp(), threads=1)[0]))
    print(f"ray_featurize_speedup: {statistics.median([o / r for o, r in zip(ones, rays)]):.3f}")
    print(f"ray_featurize_seconds_one_process: {statistics.median(ones):.1f}")
    print(f"ray_featurize_seconds_ray: {statistics.median(rays):.1f}")
    ours, own = resnet18_ratios()
    print(f"featurize_over_grad_resnet18: {ours:.3f}")
    print(f"featurize_over_traker_resnet18: {own:.3f}")
    over, r = cuda_lines()
    print(f"cuda_over_cpu_featurize: {over:.3f}")
    print(f"cuda_cpu_score_pearson: {r:.5f}")


if __name__ == '__main__':
    if len(sys.argv) > 1 and sys.argv[1] == 'stream': stream_child(*sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == 'ray': ray_child(*sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == 'train': train_child(*sys.argv[2:])
    else: main()
