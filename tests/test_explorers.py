"""The explorers, driven headlessly: set a control's value as a click would, and check that the view changed."""
import pytest, torch

@pytest.fixture(scope='module')
def probe_explorer(fashion):
    from concept_attrib.data import concept_dataset
    from concept_attrib.models import SmallResNet, train_ensemble
    from concept_attrib.probes import ProbeExplorer
    ens = train_ensemble(SmallResNet(width=8), fashion, members=2, epochs=1, train_idx=torch.arange(3000), progress=False)
    concepts = [concept_dataset(c, fashion) for c in ('footwear', 'brightness_share')]
    return ProbeExplorer(ens, concepts, ks=(1, 5), probe_train=1500, probe_test=500)

def view(ex): return bytes(ex.depth_plot.value), bytes(ex.examples.value), ex.units_table.value, ex.summary.value

@pytest.mark.parametrize('control,value', [('layer', 'stage1.0'), ('k', 1), ('concept', 'brightness_share'), ('k', 5), ('layer', 'fc')])
def test_probe_explorer_control_changes_view(probe_explorer, control, value):
    ex = probe_explorer
    before, renders = view(ex), ex.renders
    ex.controls[control].value = value
    assert ex.error is None, ex.error
    assert ex.renders == renders + 1
    assert ex.state[control] == value
    after = view(ex)
    changed = [name for name, a, b in zip(('plot', 'examples', 'units', 'summary'), before, after) if a != b]
    # a new concept redraws everything; a new layer or k changes the probe, its units, examples and the marked plot
    assert {'examples', 'units', 'summary'} <= set(changed), changed
    if control != 'k': assert 'plot' in changed
    assert bytes(ex.examples.value).startswith(b'\x89PNG')

def test_probe_explorer_reports_bad_choice(probe_explorer):
    ex = probe_explorer
    ex.controls['layer'].value = 'stem'   # 8 units: a k=5 probe exists, so choose a k the layer cannot have
    ex.ks.append(50); ex.controls['k'].options = ['all', *ex.ks]; ex.controls['k'].value = 50
    assert isinstance(ex.error, ValueError) and 'only 8 units' in ex.status.value
    ex.controls['k'].value = 'all'
    assert ex.error is None and ex.status.value == ''

@pytest.fixture(scope='module')
def attribution_explorer(fashion, tmp_path_factory):
    from concept_attrib.core import ArtifactStore
    from concept_attrib.data import concept_dataset
    from concept_attrib.models import SmallResNet, train_ensemble
    from concept_attrib.attribution import TRAK, AttributionExplorer
    idx = torch.arange(500)
    ens = train_ensemble(SmallResNet(width=8), fashion, members=2, epochs=1, train_idx=idx, batch_size=64, progress=False)
    trak = TRAK(ens, fashion, train_idx=idx, proj_dim=128, store=ArtifactStore(tmp_path_factory.mktemp('store')),
                progress=False).featurize()
    concepts = [concept_dataset(c, fashion) for c in ('footwear', 'high_low_frequency')]
    return AttributionExplorer(trak, concepts, n_targets=20, classes=fashion.classes, probe_kw=dict(probe_train=1000, probe_test=200))

@pytest.mark.parametrize('control,value', [('layer', 'stage1.0'), ('concept', 'high_low_frequency'), ('layer', 'fc')])
def test_attribution_explorer_control_changes_view(attribution_explorer, control, value):
    ex = attribution_explorer
    before = bytes(ex.grid.value), bytes(ex.hist.value), ex.table.value, ex.summary.value
    ex.controls[control].value = value
    assert ex.error is None, ex.error
    assert ex.state[control] == value
    after = bytes(ex.grid.value), bytes(ex.hist.value), ex.table.value, ex.summary.value
    assert all(a != b for a, b in zip(before, after))


@pytest.fixture(scope='module')
def card_explorer(fashion):
    import setups
    return setups.concept_card(fashion)

@pytest.mark.parametrize('control,value', [('layer', 'stage1.0'), ('concept', 'brightness_share'), ('layer', 'best')])
def test_concept_card_explorer_control_changes_view(card_explorer, control, value):
    ex = card_explorer
    before, renders = (bytes(ex.figure.value), ex.page.value), ex.renders
    ex.controls[control].value = value
    assert ex.error is None, ex.error
    assert ex.renders == renders + 1 and ex.state['concept'] == ex.controls['concept'].value
    if control == 'layer' and value != 'best': assert ex.state['layer'] == value
    assert bytes(ex.figure.value) != before[0] and ex.page.value != before[1]
    assert set(ex.state['checks']) == {'proponents_express', 'components_feed_sparse_probe',
                                       'backprop_raises_components', 'ablation_undoes_backprop'}
    assert all(v == v for v in ex.state['checks'].values())   # no NaN

@pytest.fixture(scope='module')
def fact_explorer(tmp_path_factory):
    import setups
    from concept_attrib.core import ArtifactStore
    return setups.fact_tracing(ArtifactStore(tmp_path_factory.mktemp('store')))

@pytest.mark.parametrize('control,value', [('fact', 5), ('top', 20), ('fact', 0)])
def test_fact_tracing_explorer_control_changes_view(fact_explorer, control, value):
    from concept_attrib.language import fact_tracing
    ex = fact_explorer
    before, renders = ex.table.value, ex.renders
    ex.controls[control].value = value
    assert ex.error is None, ex.error
    assert ex.renders == renders + 1 and ex.table.value != before
    fact, top = ex.controls['fact'].value, ex.controls['top'].value
    assert ex.state['fact'] == fact and len(ex.state['top']) == top
    ent = ex.facts['entailing'].iloc[fact]
    # every entailing sentence has a rank, the first is the one fact_tracing reports, and those in the top rows are marked
    assert len(ex.state['entailing_ranks']) == len(ent)
    assert ex.state['entailing_ranks'][0] == fact_tracing(ex.scores, ex.facts).first_rank.iloc[fact]
    shown = [r for r in ex.state['entailing_ranks'] if r <= top]
    assert ex.table.value.count('<td>yes</td>') == len(shown)

def test_fact_tracing_explorer_rejects_misshaped_scores(fact_explorer):
    from concept_attrib.language import FactTracingExplorer
    ex = fact_explorer
    with pytest.raises(ValueError, match=r'Scores must be \(n_train, n_facts\)'):
        FactTracingExplorer(ex.corpus, ex.scores.T, ex.facts)
