"""A small counterfactual run killed part-way, resumed, and compared with an uninterrupted one.

Used by tests/test_counterfactual.py. Run as a script (`python tests/resume_cf.py STORE OUT.json`)
it trains one member on 300 Fashion-MNIST images, attributes footwear at `stage3.0` with TRAK, then retrains 8 models
(k = 0 and 30; 2 members; 2 random draws) in 2 one-thread workers, keeping every job in STORE, and writes the result
table and how many jobs ran to OUT.json.
"""
import json, os, signal, subprocess, sys, time, warnings
from pathlib import Path

def main(store_dir, out):
    import torch; torch.set_num_threads(1)
    from concept_attrib.core import ArtifactStore
    from concept_attrib.data import load_fashion_mnist, concept_dataset
    from concept_attrib.models import SmallResNet, train_ensemble
    from concept_attrib.probes import concept_features, layer_probes
    from concept_attrib.attribution import TRAK, attribute_concept
    from concept_attrib.counterfactual import counterfactual
    data, store, idx = load_fashion_mnist(), ArtifactStore(store_dir), torch.arange(300)
    ens = train_ensemble(SmallResNet(width=8), data, members=1, epochs=2, train_idx=idx, batch_size=64, store=store, progress=False)
    fw = concept_dataset('footwear', data)
    probe = layer_probes(concept_features(ens.models[0], fw, 'stage3.0', probe_train=500, probe_test=200), fw, 'stage3.0')[None]
    att = attribute_concept(TRAK(ens, data, train_idx=idx, proj_dim=128, store=store, progress=False).featurize(), fw, probe, n_targets=20)
    cf = counterfactual(SmallResNet(width=8), data, idx, [att], ks=(30,), draws=2, retrainings=2, epochs=2, probe_train=500, probe_test=200,
                        workers=2, store=store, progress=False)
    json.dump(dict(table=cf.table.to_dict('list'), jobs_run=cf.jobs_run, jobs_reused=cf.jobs_reused), open(out, 'w'))

RUN = Path(__file__)
N_JOBS = 8

def jobs_done(store) -> int:
    from concept_attrib.core import ArtifactStore   # the store keeps each seed setting's jobs in their own folder
    return len(list((ArtifactStore(store).base/'counterfactual'/'jobs').glob('*/meta.json')))

def run(store, out, kill_after_jobs=None, timeout=900):
    "Run the small counterfactual; with `kill_after_jobs`, SIGKILL it (and its workers) once that many jobs are stored."
    err = open(f'{out}.err', 'w')
    p = subprocess.Popen([sys.executable, str(RUN), str(store), str(out)], start_new_session=True,
                         env=dict(os.environ, OMP_NUM_THREADS='1'), stdout=subprocess.DEVNULL, stderr=err)
    t0 = time.time()
    while p.poll() is None:
        if kill_after_jobs is not None and jobs_done(store) >= kill_after_jobs:
            os.killpg(p.pid, signal.SIGKILL); p.wait(); return None
        if time.time() - t0 > timeout: os.killpg(p.pid, signal.SIGKILL); raise TimeoutError(f"{RUN.name} ran past {timeout}s")
        time.sleep(0.2)
    err.close()
    if p.returncode != 0: raise RuntimeError(f"{RUN.name} failed:\n{open(f'{out}.err').read()[-3000:]}")
    return json.load(open(out))

def resume_check(tmp) -> dict:
    "Kill after 3 of the 8 jobs, resume, and run once uninterrupted; returns the three pieces of evidence."
    tmp = Path(tmp)
    killed = run(tmp/'a', tmp/'a.json', kill_after_jobs=3)
    before = jobs_done(tmp/'a')
    resumed = run(tmp/'a', tmp/'a.json')
    full = run(tmp/'b', tmp/'b.json')
    return dict(killed=killed is None, done_before_kill=before, resumed=resumed, full=full)

if __name__ == '__main__':
    warnings.filterwarnings('ignore')
    main(*sys.argv[1:3])
