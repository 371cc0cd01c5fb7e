"""TRAK on a language model: the fact-tracing experiment at small scale.

The generated fact corpus (`fact_corpus()`: 300 people, 40 cities, 15 companies, every fact in 3 paraphrases, 300
distractors) and `CausalLM` (2 layers, width 64, 4 heads), trained by `LM_RECIPE`. MEMBERS models on the full corpus;
TRAK (proj_dim PROJ_DIM = 8192, training sentences featurised with `SequenceMargin`, targets read with
`NextTokenMargin`).

- `lm_params`, `lm_train_seconds` (one full training run, one torch thread), `lm_fact_accuracy_<relation>`: the
  members' mean share of facts completed.
- `lm_lds_trak_10`: LDS of the answer margin of TARGETS direct facts, TRAK over 10 members, against LDS_M random
  halves retrained twice each; `lm_lds_trak_1`, `_2`, `_5` over fewer members, `_se` their standard errors over
  targets, `_proj_512` with the default projection, `_exact` without projection (one member);
  `lm_lds_ceiling`: the two retrainings of each half against each other, Spearman-Brown corrected.
- `fact_tracing_mrr_trak`, `fact_tracing_mrr_bm25`, `fact_tracing_mrr_random`, and `fact_tracing_precision_<...>`:
  how well each ranking retrieves the entailing sentences of every direct fact about a person (precision at the
  fact's number of entailing sentences, 3).
- `removal_*`: REMOVAL_FACTS direct facts about distinct people, REMOVAL_K of each fact's sentences removed by each
  strategy (TRAK's top proponents, the oracle's top entailing sentences by BM25, random), all facts at once, retrained
  with REMOVAL_SEEDS seeds; the drop in the facts' accuracy and answer log-probability from the full-corpus models
  with the same seeds, and `removal_accuracy_drop_trak_minus_oracle` with its 95% interval over facts (`_ci`, each
  fact's difference averaged over seeds) and over seeds (`_seed_ci`, each seed's mean over facts); the table of
  every fact under every model goes to $BENCH_LANGUAGE_TABLE when set.
"""
import os, tempfile, time, warnings
warnings.filterwarnings('ignore')
import numpy as np
import scipy.stats
import torch
from concept_attrib.core import ArtifactStore
from concept_attrib.language import (fact_corpus, lm_data, queries, LM_RECIPE, bm25_scores, fact_tracing,
                                     removal_sets, removal_experiment, removal_effects, answer_scores)
from concept_attrib.models import CausalLM, train, train_ensemble
from concept_attrib.outputs import NextTokenMargin, SequenceMargin
from concept_attrib.attribution import TRAK, lds_ground_truth, lds

PEOPLE = int(os.environ.get('BENCH_PEOPLE', 300))   # smaller for a quick check of the script
MEMBERS, TARGETS, PROJ_DIM = int(os.environ.get('BENCH_MEMBERS', 10)), 120, 8192
LDS_M = int(os.environ.get('BENCH_LDS_M', 48))
REMOVAL_FACTS, REMOVAL_K, REMOVAL_SEEDS = 60, 2, int(os.environ.get('BENCH_REMOVAL_SEEDS', 6))
SEED = int(os.environ.get('BENCH_SEED', 0))

def line(name, value):
    print(f'{name}: {value:.4f}' if isinstance(value, (float, np.floating)) else f'{name}: {value}', flush=True)

def main():
    store = ArtifactStore(os.environ.get('BENCH_STORE') or tempfile.mkdtemp())   # BENCH_STORE: reuse a run's
    corpus = fact_corpus(people=PEOPLE, seed=SEED); data = lm_data(corpus)
    cfg = CausalLM(len(corpus.vocab), max_len=data.train.x.shape[1]).config
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    one = train(cfg, data, recipe=LM_RECIPE, seed=10_000 + SEED, progress=False)
    line('lm_params', sum(p.numel() for p in one.model.parameters()))
    line('lm_train_seconds', time.perf_counter() - t0)
    ens = train_ensemble(cfg, data, members=MEMBERS, seed=100 * SEED, recipe=LM_RECIPE, store=store, name='lm',
                         workers=2, progress=False)
    direct = corpus.facts[~corpus.facts.indirect & (corpus.facts.relation != 'region')]
    qx, qy = queries(corpus)
    acc = np.mean([answer_scores(m, qx, qy).correct.values for m in ens.models], 0)
    for rel, a in corpus.facts.assign(a=acc).groupby('relation').a.mean().items(): line(f'lm_fact_accuracy_{rel}', a)

    targets = direct.sample(min(TARGETS, len(direct)), random_state=SEED)
    tx, ty = queries(corpus, targets)
    truth = lds_ground_truth(cfg, data, torch.arange(len(corpus)), tx, ty, output=NextTokenMargin(), m=LDS_M,
                             retrainings=2, seed=SEED, recipe=LM_RECIPE, store=store, workers=2, progress=False)
    line('lm_lds_ceiling', truth.ceiling)
    torch.set_num_threads(2)
    traks = {}
    for proj in (PROJ_DIM, 512, None):          # the exact kernel (no projection) for its first member only
        models = ens.models if proj is not None else ens.models[:1]
        t0 = time.perf_counter()
        traks[proj] = TRAK(models, data, train_output=SequenceMargin(), proj_dim=proj, store=store, progress=False)
        traks[proj].featurize()
        tag = {PROJ_DIM: '', 512: '_proj_512', None: '_exact'}[proj]
        line(f'lm_featurize_seconds_per_member{tag}', (time.perf_counter() - t0) / len(models))
        s = traks[proj].score(tx, ty, output=NextTokenMargin())
        for k in (1, 2, 5, 10):
            if k > len(models): continue
            res = lds(traks[proj].from_store(members=list(range(k))) if k < len(models) else s, truth)
            line(f'lm_lds_trak_{k}{tag}', res['lds'])
            line(f'lm_lds_trak_{k}{tag}_se', res['per_target'].std().item() / len(targets) ** 0.5)
    trak = traks[PROJ_DIM]

    people = corpus.facts[corpus.facts.relation.isin(['birthplace', 'profession', 'employer']) & ~corpus.facts.indirect]
    px, py = queries(corpus, people)
    rankings = dict(trak=trak.score(px, py, output=NextTokenMargin()), bm25=bm25_scores(corpus, people),
                    random=torch.randn(len(corpus), len(people), generator=torch.Generator().manual_seed(SEED)))
    for name, s in rankings.items():
        ft = fact_tracing(s, people)
        line(f'fact_tracing_mrr_{name}', ft.rr.mean()); line(f'fact_tracing_precision_{name}', ft.precision.mean())
        for rel, v in ft.groupby(people.relation.values).rr.mean().items(): line(f'fact_tracing_mrr_{name}_{rel}', v)

    chosen = pick_facts(corpus, min(REMOVAL_FACTS, PEOPLE), SEED)
    cx, cy = queries(corpus, chosen)
    sets = removal_sets(corpus, chosen, trak.score(cx, cy, output=NextTokenMargin()), k=REMOVAL_K, seed=SEED)
    ent = {i for e in chosen.entailing for i in e}
    line('removal_trak_entailing_share', np.mean([i in ent for s in sets['trak'] for i in s]))
    runs = removal_experiment(cfg, data, corpus, chosen, sets, seeds=REMOVAL_SEEDS, seed=100 * SEED,
                              recipe=LM_RECIPE, store=store, name='lm', workers=2, progress=False)
    eff = removal_effects(runs)
    print(eff.round(4).to_string(), flush=True)
    line('removal_accuracy_full', runs[runs.strategy == 'none'].correct.mean())
    for s, r in eff.iterrows():
        line(f'removal_accuracy_drop_{s}', r.accuracy_drop); line(f'removal_logprob_drop_{s}', r.logprob_drop)
    line('removal_accuracy_drop_trak_minus_oracle', eff.loc['trak', 'accuracy_drop_minus_oracle'])
    line('removal_accuracy_drop_trak_minus_oracle_ci', eff.loc['trak', 'accuracy_drop_minus_oracle_ci'])
    line('removal_logprob_drop_trak_minus_oracle', eff.loc['trak', 'logprob_drop_minus_oracle'])
    line('removal_logprob_drop_trak_minus_oracle_ci', eff.loc['trak', 'logprob_drop_minus_oracle_ci'])
    per_seed = runs.groupby(['strategy', 'seed']).correct.mean().unstack('strategy')
    d = (per_seed['oracle'] - per_seed['trak'])
    line('removal_accuracy_drop_trak_minus_oracle_seed_min', d.min())
    line('removal_accuracy_drop_trak_minus_oracle_seed_max', d.max())
    # the interval over retraining seeds (each seed's mean over facts), Student's t
    line('removal_accuracy_drop_trak_minus_oracle_seed_ci', scipy.stats.t.ppf(0.975, len(d) - 1) * d.std() / len(d) ** 0.5)
    if os.environ.get('BENCH_LANGUAGE_TABLE'): runs.to_csv(os.environ['BENCH_LANGUAGE_TABLE'], index=False)

def pick_facts(corpus, n, seed):
    "n direct facts about distinct people, the three relations in turn."
    f = corpus.facts
    people = f[f.relation == 'birthplace'].subject.sample(n, random_state=seed).tolist()
    rels = ['birthplace', 'profession', 'employer']
    idx = [f.index[(f.subject == p) & (f.relation == rels[i % 3])][0] for i, p in enumerate(people)]
    return f.loc[idx]

if __name__ == '__main__': main()
