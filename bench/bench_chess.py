"""Chess benchmarks: concept backpropagation with legal edits, and Stockfish labelling speed.

- `legal_rate`: the share of `chess_backprop` outputs that pass `board.is_valid()`, over 200 held-out positions per
  concept (must be 1.0).
- `concept_achieved_rate`: over the same outputs, the share where the concept is truly present after the edits
  according to python-chess (each concept was absent before); `random_edits_achieved_rate` is the same for the same
  number of random legal edits, the chance level; one `concept_achieved_rate_<concept>` line per concept.
- `positions_per_second`: positions labelled per second by `generate_positions` (Stockfish self-play at 100 nodes),
  from a fresh store, median over REPEATS runs of 10 games.

The value network, its positions and probes follow the chess notebook (300 games, 6 epochs, balanced dense probes on
the flattened activations of each concept's best block). Positions and the network are kept in the artifact store, so
a rerun only repeats the measured parts.
"""
import os, statistics, sys, tempfile, warnings
warnings.filterwarnings('ignore')
import numpy as np
from concept_attrib.core import ArtifactStore
from concept_attrib.models import train
from concept_attrib.probes import concept_features, layer_probes, probe_metrics
from concept_attrib.chess import (generate_positions, chess_dataset, chess_concept_data, ChessCNN,
                                  chess_backprop, random_edits, CHESS_CONCEPTS)

REPEATS = int(os.environ.get('BENCH_REPEATS', 3))
CONCEPTS = ['material_advantage', 'passed_pawn', 'queen_attacked', 'in_check']
LAYERS = ['stem', 'block1', 'block2', 'block3', 'block4', 'pool']

def main():
    rates = []
    for rep in range(REPEATS):
        pos = generate_positions(n_games=10, seed=1000 + rep, store=ArtifactStore(tempfile.mkdtemp()), progress=False)
        rates.append(pos.attrs['labelled_now'] / pos.attrs['seconds'])
    store = ArtifactStore()
    games = generate_positions(n_games=300, store=store, progress=False)
    cds = chess_dataset(games)
    value = train(ChessCNN(), cds, epochs=6, batch_size=128, lr=0.003, progress=False, store=store,
                  name='bench/chess_value')
    legal, achieved, control = [], {}, {}
    for name in CONCEPTS:
        cd = chess_concept_data(cds, name)
        feats = concept_features(value.model, cd, layers=LAYERS, reduce='flatten', probe_train=6000, probe_test=3000)
        scored = {l: (p, probe_metrics(p, feats.test[l], cd.c_test[feats.test_idx])['balanced_accuracy'])
                  for l in LAYERS for p in [layer_probes(feats, cd, l, balance=True)[None]]}
        layer = max(scored, key=lambda l: scored[l][1]); probe = scored[layer][0]
        absent = [f for f, c in zip(cds.test_fens, cd.c_test.tolist()) if c == 0][:200]
        res = chess_backprop(value.model, probe, absent, target=0.9, progress=False)
        legal += [r.after.is_valid() for r in res]
        achieved[name] = [r.truth_after for r in res]
        control[name] = [CHESS_CONCEPTS[name](b) for b in random_edits(absent, [len(r.edits) for r in res])]
        print(f"# {name} on {layer} (balanced accuracy {scored[layer][1]:.3f}): "
              f"probe {np.mean([r.probe_before for r in res]):.3f} -> "
              f"{np.mean([r.probe_after for r in res]):.3f}, "
              f"{np.mean([len(r.edits) for r in res]):.2f} edits", file=sys.stderr, flush=True)
    print(f"legal_rate: {np.mean(legal):.4f}")
    print(f"concept_achieved_rate: {np.mean(sum(achieved.values(), [])):.4f}")
    print(f"random_edits_achieved_rate: {np.mean(sum(control.values(), [])):.4f}")
    for name in CONCEPTS: print(f"concept_achieved_rate_{name}: {np.mean(achieved[name]):.4f}")
    print(f"positions_per_second: {statistics.median(rates):.1f}")

if __name__ == '__main__': main()
