"""Chess: concept backpropagation keeps every position legal, the explorer responds to every control, bad input is refused."""
from pathlib import Path
import pytest

@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    import setups
    from concept_attrib.core import ArtifactStore
    return setups.chess(ArtifactStore(tmp_path_factory.mktemp('store')))

def test_backprop_outputs_are_legal(setup):
    from concept_attrib.chess import chess_backprop, chess_concepts
    net, probes, cds = setup
    absent = [f for f, c in zip(cds.test_fens, chess_concepts(cds.test_fens, ['material_advantage']).material_advantage) if not c][:40]
    res = chess_backprop(net, probes['material_advantage'], absent, target=0.9, progress=False)
    assert len(res) == 40 and all(r.after.is_valid() and r.legal for r in res)
    assert sum(r.probe_after for r in res) > sum(r.probe_before for r in res)           # moved towards the target
    assert all(len(r.edits) <= 3 for r in res) and any(r.edits for r in res)
    for r in res:                                                                        # the edits replay to the output
        b = r.before
        for e in r.edits: b = e.apply(b)
        assert b.board_fen() == r.after.board_fen()
    none = chess_backprop(net, probes['material_advantage'], absent[:5], max_edits=0, progress=False)
    assert all(r.after == r.before and not r.edits for r in none)

def test_explorer_headless(setup):
    from concept_attrib.chess import ChessExplorer
    net, probes, cds = setup
    ex = ChessExplorer(net, probes, cds.test_fens[:20])
    assert ex.error is None and '<svg' in ex.boards_html.value
    for name, v in (('position', 5), ('concept', 'passed_pawn'), ('target', 0.4), ('lam2', 1.0)):
        shown, state = ex.boards_html.value + ex.table.value, dict(ex.state)
        ex.controls[name].value = v
        assert ex.error is None, ex.error
        assert ex.state[name] == v and ex.state != state and ex.boards_html.value + ex.table.value != shown, name
        assert ex.result.after.is_valid()
    assert ex.state['edits'] == []     # λ2 = 1 outweighs any gain towards target 0.4

@pytest.mark.parametrize('fen, msg', [('8/8/8 w - - 0 1', 'Invalid FEN'),
                                      ('4k3/8/8/8/8/8/8/4KK2 w - - 0 1', 'TOO_MANY_KINGS'),
                                      ('4k3/8/8/8/8/8/8/4RK2 w - - 0 1', 'OPPOSITE_CHECK')])
def test_bad_positions(setup, fen, msg):
    from concept_attrib.chess import chess_backprop, ChessError
    net, probes, _ = setup
    with pytest.raises(ChessError, match=msg): chess_backprop(net, probes['passed_pawn'], [fen], progress=False)

def test_bad_concepts_and_engine(setup, monkeypatch):
    from concept_attrib.chess import chess_concepts, ChessExplorer, ChessError, find_stockfish, StockfishMissing
    net, probes, cds = setup
    with pytest.raises(ChessError, match='Unknown chess concept'): chess_concepts(cds.test_fens[:2], ['fork'])
    with pytest.raises(ChessError, match='Unknown chess concept'): ChessExplorer(net, {'fork': probes['passed_pawn']}, cds.test_fens[:2])
    monkeypatch.setenv('PATH', '/nonexistent'); monkeypatch.delenv('STOCKFISH', raising=False)
    monkeypatch.setattr('concept_attrib.chess.DEBIAN_STOCKFISH', Path('/nonexistent/stockfish'))
    with pytest.raises(StockfishMissing, match='apt-get install stockfish'): find_stockfish()
