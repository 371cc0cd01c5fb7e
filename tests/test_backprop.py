"""The concept-backpropagation explorers, driven headlessly: every control changes what they show."""
import pytest, torch

@pytest.fixture(scope='module')
def tabular():
    import setups
    return setups.tabular_backprop()

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
    import setups as shared
    from concept_attrib.backprop import ImageBackpropExplorer
    setups = shared.image_backprop(fashion)
    ex = ImageBackpropExplorer(setups, steps=60)
    assert ex.error is None
    for name, value in (('image', 4), ('lam1', 1.0), ('lam2', 0.1), ('concept', 'footwear'), ('target', 0.2)):
        img, state = bytes(ex.img.value), dict(ex.state)
        ex.controls[name].value = value
        assert ex.error is None, ex.error
        assert ex.state != state and bytes(ex.img.value) != img, name
    lo, hi = setups['footwear']['probe'].info['range']
    assert (ex.controls['target'].min, ex.controls['target'].max) == (lo, hi)   # the slider follows the concept's range
