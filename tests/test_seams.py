"""The seams users bring their own through: one output read the same way by every method, frozen weights that stay
frozen, and pictures of any size and channel count in every explorer."""
import pytest, torch
from torch import nn

class UserCNN(nn.Module):
    "A network the library has never seen: RGB, any image size, no config."
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 16, 3, 2, 1), nn.ReLU())
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))
    def forward(self, x): return self.head(self.body(x))

def rgb(x):
    "Fashion-MNIST items padded to 32×40 and tinted: RGB and not square."
    return nn.functional.pad(x, (6, 6, 2, 2)).expand(-1, 3, -1, -1) * torch.tensor([1.0, 0.6, 0.3])[None, :, None, None]

@pytest.fixture(scope='module')
def user_data(fashion):
    from concept_attrib.data import TaskData, Split
    return TaskData('tinted', Split(rgb(fashion.train.x[:1200]), fashion.train.y[:1200]), Split(rgb(fashion.test.x[:400]), fashion.test.y[:400]),
                   fashion.classes, 'test')

@pytest.fixture(scope='module')
def user_setup(user_data):
    "A trained user model, a concept the test computes itself (bright items) and a probe of it on body.2."
    from concept_attrib.models import train
    from concept_attrib.data import ConceptData
    from concept_attrib.probes import concept_features, layer_probes
    net = train(UserCNN, user_data, epochs=2, batch_size=64, progress=False).model
    bright = lambda x: (x.mean((1, 2, 3)) > x.mean((1, 2, 3)).median()).float()
    c = ConceptData('bright', 'binary', user_data.train.x, user_data.train.y, bright(user_data.train.x),
                    user_data.test.x, user_data.test.y, bright(user_data.test.x))
    probe = layer_probes(concept_features(net, c, 'body.2', probe_train=1000, probe_test=300), c, 'body.2')[None]
    return net, c, probe

def test_every_method_reads_the_same_probe_output(user_setup):
    from concept_attrib.outputs import ProbeOutput, output_values
    from concept_attrib.attribution import TrakOutput, target_outputs
    from concept_attrib.outputs import TaskMargin
    from concept_attrib.components import Components, ablated_outputs
    from concept_attrib.backprop import probe_output
    net, c, probe = user_setup
    x, y = c.x_test[:6], c.y_test[:6]
    lds_side = target_outputs(net, x, y, probe)                       # what the LDS harness records
    trak = TrakOutput(TaskMargin()); trak.target, trak.scoring = ProbeOutput(probe), True
    params, bufs = dict(net.named_parameters()), dict(net.named_buffers())
    trak_side = torch.stack([trak.get_output(net, params, bufs, x[i], y[i]) for i in range(len(x))]).detach()
    comps = Components(net)
    coar_side = ablated_outputs(net, comps, torch.zeros(1, comps.n, dtype=torch.bool), x, y, probe)[0]
    with torch.no_grad(): backprop_side = probe_output(net, probe, x, as_probability=False)
    for other in (trak_side, coar_side, backprop_side): torch.testing.assert_close(other, lds_side, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(output_values(net, x, output=ProbeOutput(probe, as_probability=True)), torch.sigmoid(lds_side))

def _flags(*ms): return [p.requires_grad for m in ms for p in m.parameters()], [s.training for m in ms for s in m.modules()]

def test_frozen_weights_stay_frozen_and_modes_come_back(user_setup, user_data):
    from concept_attrib.outputs import output_values
    from concept_attrib.components import Components, ablated_outputs, ablated_margins, edit, LinearAttribution
    from concept_attrib.backprop import concept_backprop, image_backprop
    from concept_attrib.models import ConvAutoencoder
    net, c, probe = user_setup
    net.train(); net.body[0].weight.requires_grad_(False); net.head.eval(); probe.train()
    ae = ConvAutoencoder(in_channels=3).train(); ae.encoder[0].bias.requires_grad_(False)
    before = _flags(net, probe, ae)
    x, y = c.x_test[:4], c.y_test[:4]
    comps = Components(net); masks = torch.zeros(2, comps.n, dtype=torch.bool)
    output_values(net, x, y, probe); ablated_outputs(net, comps, masks, x, y, probe); ablated_margins(net, comps, masks, x, y)
    attr = LinearAttribution(torch.randn(4, comps.n), torch.zeros(4), 'random')
    edit(net, comps, attr, x, y, torch.tensor([True, False, True, False]), ks=(1,), n_random=1)
    concept_backprop(net, probe, x[:2], 0.9, steps=3, progress=False)
    image_backprop(net, probe, ae, x[:2], 0.9, steps=3, progress=False)
    assert _flags(net, probe, ae) == before
    net.body[0].weight.requires_grad_(True); net.eval(); probe.eval()

def test_chess_backprop_keeps_flags():
    import chess
    from concept_attrib.chess import ChessCNN, encode, chess_backprop, chess_concepts
    from concept_attrib.probes import layer_features, fit_probe
    import random
    rnd, fens = random.Random(0), []
    for g in range(12):
        b = chess.Board()
        for _ in range(rnd.randrange(6, 30)):
            moves = list(b.legal_moves)
            if not moves: break
            b.push(rnd.choice(moves)); fens.append(b.fen())
    net = ChessCNN(width=8, blocks=1).train(); net.stem[0].weight.requires_grad_(False)
    x = torch.stack([encode(chess.Board(f)) for f in fens])
    labels = torch.tensor(chess_concepts(fens, ['random'])['random'].values).float()
    probe = fit_probe(layer_features(net, x, 'block1')['block1'], labels, layer='block1', concept='random')
    before = _flags(net, probe)
    chess_backprop(net, probe, fens[:2], max_edits=1, candidates=4, progress=False)
    assert _flags(net, probe) == before

def test_explorers_draw_rgb_non_square_images(user_setup, user_data, tmp_path):
    from concept_attrib.core import ArtifactStore
    from concept_attrib.models import train_ensemble, ConvAutoencoder
    from concept_attrib.probes import ProbeExplorer
    from concept_attrib.attribution import TRAK, AttributionExplorer, attribute_concept
    from concept_attrib.counterfactual import counterfactual, AblationExplorer
    from concept_attrib.backprop import ImageBackpropExplorer, train_autoencoder
    import matplotlib.image as mpimg, io
    net, c, probe = user_setup
    def colourful(png):   # the drawn images are RGB: some pixel's channels differ
        a = mpimg.imread(io.BytesIO(bytes(png)))
        return png[:4] == b'\x89PNG' and (abs(a[..., 0] - a[..., 2]) > 0.2).any()
    pe = ProbeExplorer([net], [c], ks=(1,), layers=['body.0', 'body.2'], probe_train=800, probe_test=200)
    assert pe.error is None and colourful(pe.examples.value)
    idx = torch.arange(300)
    ens = train_ensemble(UserCNN, user_data, members=1, epochs=1, train_idx=idx, batch_size=64, progress=False)
    trak = TRAK(ens, user_data, train_idx=idx, proj_dim=64, store=ArtifactStore(tmp_path/'s'), progress=False).featurize()
    ae_ex = AttributionExplorer(trak, [c], layers=['body.2'], n_targets=10, classes=user_data.classes,
                                probe_kw=dict(probe_train=600, probe_test=200))
    assert ae_ex.error is None and colourful(ae_ex.grid.value)
    attr = ae_ex.result('bright', 'body.2')
    cf = counterfactual(UserCNN, user_data, idx, [attr], ks=(30,), draws=1, retrainings=1, layers=['body.2'], probe_train=400, probe_test=200,
                        epochs=1, workers=1, progress=False, concepts=[c])
    ab = AblationExplorer(cf, user_data)
    assert ab.error is None and colourful(ab.removed_img.value)
    ae = train_autoencoder(ConvAutoencoder(in_channels=3), user_data.train.x[:300], epochs=1, progress=False)
    ib = ImageBackpropExplorer({'bright': dict(model=net, probe=probe, ae=ae, images=user_data.test.x[:3])}, steps=5)
    assert ib.error is None and colourful(ib.img.value)

def test_trak_and_lds_take_any_output(user_setup, user_data, tmp_path):
    "A probe, the same probe as an `Output`, and a user's function of (model, x, y): TRAK scores them, the LDS harness records them."
    from concept_attrib.core import ArtifactStore
    from concept_attrib.outputs import ProbeOutput, FunctionOutput, output_values
    from concept_attrib.attribution import TRAK, lds_ground_truth, lds
    net, c, probe = user_setup
    idx = torch.arange(200)
    trak = TRAK([net], user_data, train_idx=idx, proj_dim=64, store=ArtifactStore(tmp_path/'s'), progress=False).featurize()
    x, y = c.x_test[:5], c.y_test[:5]
    by_probe, by_output = trak.score(x, y, probe=probe), trak.score(x, y, output=ProbeOutput(probe))
    torch.testing.assert_close(by_probe, by_output)
    boot_vs_sneaker = lambda model, x, y: (lambda o: o[:, 9] - o[:, 7])(model(x))
    mine = trak.score(x, output=boot_vs_sneaker)                                   # no labels needed
    assert mine.shape == (200, 5) and torch.isfinite(mine).all() and not torch.allclose(mine, by_probe)
    gt = lds_ground_truth(UserCNN, user_data, idx, x, y, m=4, epochs=1, batch_size=64, stack=4, output=FunctionOutput(boot_vs_sneaker),
                          store=ArtifactStore(tmp_path/'g'), progress=False)
    assert gt.outputs.shape == (4, 5) and gt.config['output']['output'] == 'function'
    assert isinstance(lds(mine, gt)['lds'], float)
