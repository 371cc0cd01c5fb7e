"""The concept-backpropagation explorers, driven headlessly: every control changes what they show."""
import pytest, torch

@pytest.fixture(scope='module')
def tabular():
    from concept_attrib.data import load_california_housing, california_split, concept_dataset
    from concept_attrib.models import TabularMLP, train
    from concept_attrib.probes import concept_features, layer_probes
    housing = load_california_housing()
    bpp = concept_dataset('bedrooms_per_person', housing)
    mlp = train(TabularMLP(n_in=8), california_split(housing), epochs=10, batch_size=128, lr=0.05, progress=False).model
    probe = layer_probes(concept_features(mlp, bpp, 'act2', n_train=4000, n_test=1000), bpp, 'act2')[None]
    return mlp, probe, bpp

def test_tabular_explorer(tabular):
    from concept_attrib.backprop import TabularBackpropExplorer
    mlp, probe, bpp = tabular
    ex = TabularBackpropExplorer(mlp, probe, bpp, steps=100)
    assert ex.error is None and ex.renders == 1
    for name, value in (('row', 7), ('lam1', 10.0), ('lam2', 0.5), ('target', float(bpp.c_train.quantile(0.5)))):
        bars, table, state = bytes(ex.bars.value), ex.table.value, dict(ex.state)
        ex.controls[name].value = value
        assert ex.error is None, ex.error
        assert ex.state[name] == pytest.approx(value) and ex.state != state
        assert bytes(ex.bars.value) != bars and ex.table.value != table, name

def test_image_explorer(fashion):
    from concept_attrib.data import concept_dataset
    from concept_attrib.models import SmallResNet, ConvAutoencoder, train
    from concept_attrib.probes import concept_features, layer_probes
    from concept_attrib.backprop import ImageBackpropExplorer, train_autoencoder
    net = train(SmallResNet(width=8), fashion, epochs=1, train_idx=torch.arange(3000), batch_size=64, progress=False).model.eval()
    ae = train_autoencoder(ConvAutoencoder(), fashion.train.x[:3000], epochs=2, progress=False)
    setups = {}
    for name in ('brightness_share', 'footwear'):
        c = concept_dataset(name, fashion)
        pr = layer_probes(concept_features(net, c, 'stage2.0', n_train=2000, n_test=500), c, 'stage2.0')[None]
        setups[name] = dict(model=net, probe=pr, ae=ae, images=fashion.test.x[:10])
    ex = ImageBackpropExplorer(setups, steps=60)
    assert ex.error is None
    for name, value in (('image', 4), ('lam1', 1.0), ('lam2', 0.1), ('concept', 'footwear'), ('target', 0.2)):
        img, state = bytes(ex.img.value), dict(ex.state)
        ex.controls[name].value = value
        assert ex.error is None, ex.error
        assert ex.state != state and bytes(ex.img.value) != img, name
    lo, hi = setups['footwear']['probe'].info['range']
    assert (ex.controls['target'].min, ex.controls['target'].max) == (lo, hi)   # the slider follows the concept's range
