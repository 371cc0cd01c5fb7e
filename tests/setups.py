"""Small real setups of the explorers, shared by the headless tests and the notebooks the browser test opens."""
import tempfile
import torch

def tabular_backprop():
    "A California-housing MLP, a bedrooms-per-person probe on act2, and the concept data."
    from concept_attrib.data import load_california_housing, california_split, concept_dataset
    from concept_attrib.models import TabularMLP, train
    from concept_attrib.probes import concept_features, layer_probes
    housing = load_california_housing()
    bpp = concept_dataset('bedrooms_per_person', housing)
    mlp = train(TabularMLP(n_in=8), california_split(housing), epochs=10, batch_size=128, lr=0.02, progress=False).model
    probe = layer_probes(concept_features(mlp, bpp, 'act2', probe_train=4000, probe_test=1000), bpp, 'act2')[None]
    return mlp, probe, bpp

def image_backprop(fashion):
    "`ImageBackpropExplorer` setups for brightness share and footwear on one small ResNet and autoencoder."
    from concept_attrib.data import concept_dataset
    from concept_attrib.models import SmallResNet, ConvAutoencoder, train
    from concept_attrib.probes import concept_features, layer_probes
    from concept_attrib.backprop import train_autoencoder
    net = train(SmallResNet(width=8), fashion, epochs=1, train_idx=torch.arange(3000), batch_size=64, progress=False).model.eval()
    ae = train_autoencoder(ConvAutoencoder(), fashion.train.x[:3000], epochs=2, progress=False)
    setups = {}
    for name in ('brightness_share', 'footwear'):
        c = concept_dataset(name, fashion)
        pr = layer_probes(concept_features(net, c, 'stage2.0', probe_train=2000, probe_test=500), c, 'stage2.0')[None]
        setups[name] = dict(model=net, probe=pr, ae=ae, images=fashion.test.x[:10])
    return setups

def chess(store=None):
    "A small value network on 20 Stockfish games, balanced probes of two concepts on block2, and the positions."
    from concept_attrib.core import ArtifactStore
    from concept_attrib.models import train
    from concept_attrib.probes import concept_features, layer_probes
    from concept_attrib.chess import generate_positions, chess_dataset, chess_concept_data, ChessCNN
    games = generate_positions(n_games=20, nodes=50, store=store or ArtifactStore(tempfile.mkdtemp()), progress=False)
    cds = chess_dataset(games)
    net = train(ChessCNN(width=16, blocks=2), cds, epochs=2, batch_size=128, lr=0.01, progress=False).model
    probes = {}
    for name in ('material_advantage', 'passed_pawn'):
        cd = chess_concept_data(cds, name)
        probes[name] = layer_probes(concept_features(net, cd, 'block2', reduce='flatten', probe_train=1500, probe_test=300), cd, 'block2', balance=True)[None]
    return net, probes, cds

def concept_card(fashion, store=None):
    "`ConceptCardExplorer` on two small ResNets: footwear (binary) and brightness share (regression), small sizes."
    from concept_attrib.core import ArtifactStore
    from concept_attrib.data import concept_dataset
    from concept_attrib.models import SmallResNet, ConvAutoencoder, train_ensemble
    from concept_attrib.backprop import train_autoencoder
    from concept_attrib.card import ConceptCardExplorer
    idx = torch.arange(1000)
    ens = train_ensemble(SmallResNet(width=8), fashion, members=2, epochs=2, train_idx=idx, batch_size=64, progress=False)
    ae = train_autoencoder(ConvAutoencoder(), fashion.train.x[:1000], epochs=1, progress=False)
    concepts = [concept_dataset(c, fashion) for c in ('footwear', 'brightness_share')]
    return ConceptCardExplorer(ens, fashion, concepts, train_idx=idx, probe_train=500, probe_test=300, proj_dim=128,
                               n_targets=10, masks=120, n_examples=20, top_k=5, draws=3, edit=ae, n_backprop=6,
                               backprop_kw=dict(lam2=0.001, steps=60, lr=0.1), store=store or ArtifactStore(tempfile.mkdtemp()))

def fact_tracing(store=None):
    "`FactTracingExplorer` on a 100-person fact corpus: one small causal LM, TRAK of the answers of facts about people."
    from concept_attrib.core import ArtifactStore
    from concept_attrib.models import CausalLM, train_ensemble, as_recipe
    from concept_attrib.outputs import NextTokenMargin, SequenceMargin
    from concept_attrib.attribution import TRAK
    from concept_attrib.language import fact_corpus, lm_data, queries, LM_RECIPE, FactTracingExplorer
    corpus = fact_corpus(people=100, cities=16, companies=8, distractors=100)
    data = lm_data(corpus)
    ens = train_ensemble(CausalLM(len(corpus.vocab), max_len=data.train.x.shape[1]).config, data, members=1,
                         recipe=as_recipe(LM_RECIPE, epochs=40), progress=False)
    trak = TRAK(ens, data, train_output=SequenceMargin(), proj_dim=1024, progress=False,
                store=store or ArtifactStore(tempfile.mkdtemp())).featurize()
    person = corpus.facts[corpus.facts.relation.isin(['birthplace', 'profession', 'employer'])].iloc[:40]
    return FactTracingExplorer(corpus, trak.score(*queries(corpus, person), output=NextTokenMargin()), person)
