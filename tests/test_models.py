import signal, subprocess, sys, time, textwrap
import torch
from concept_attrib.core import ArtifactStore
from concept_attrib.models import SmallResNet, train, train_config

def test_small_resnet_reaches_88_percent(fashion):
    "The acceptance bar: a small ResNet reaches at least 88% Fashion-MNIST test accuracy on this machine."
    torch.set_num_threads(1)
    res = train(SmallResNet(), fashion, epochs=2, seed=0, progress=False)
    print(res)
    assert res.test_metric >= 0.88, res

KILLED_RUN = textwrap.dedent('''
    import sys, torch
    from concept_attrib.core import ArtifactStore
    from concept_attrib.data import load_fashion_mnist
    from concept_attrib.models import SmallResNet, train
    torch.set_num_threads(1)
    train(SmallResNet(width=8), load_fashion_mnist(), epochs=3, train_idx=torch.arange(3000), seed=7,
          store=ArtifactStore(sys.argv[1]), name='victim', progress=False)
''')

def test_training_resumes_after_sigkill(tmp_path, fashion):
    "A run killed with SIGKILL after an epoch resumes from its checkpoint and ends where an uninterrupted run ends."
    store = ArtifactStore(tmp_path/'store')
    cfg = train_config(SmallResNet(width=8).config, fashion, epochs=3, seed=7, train_idx=torch.arange(3000))
    proc = subprocess.Popen([sys.executable, '-c', KILLED_RUN, str(store.root)])
    deadline = time.time() + 300
    while not store.has('victim/partial', cfg):
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.time() < deadline, "no epoch checkpoint appeared"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL); proc.wait()
    assert not store.has('victim', cfg)
    done_epochs = store.load('victim/partial', cfg)['epoch']
    resumed = train(SmallResNet(width=8), fashion, epochs=3, train_idx=torch.arange(3000), seed=7, store=store, name='victim', progress=False)
    ref = train(SmallResNet(width=8), fashion, epochs=3, train_idx=torch.arange(3000), seed=7, progress=False)
    assert 1 <= done_epochs < 3 and len(resumed.history) == 3
    for (k, a), b in zip(resumed.model.state_dict().items(), ref.model.state_dict().values()):
        assert torch.allclose(a.float(), b.float(), atol=1e-5), k
