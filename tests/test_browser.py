"""Every explorer in a real browser: JupyterLab on 127.0.0.1 with a fresh token-less config, headless Chromium driven
by playwright-core (`tests/browser/drive.mjs`). Each explorer's notebook is opened and run in the browser, one control of
each explorer is changed as a person would (a dropdown choice or slider keys), and its output must change.
Screenshots land in `reports/browser/`. Skipped where Chromium, Node or playwright-core are missing (`make test`
installs them on Debian as root)."""
import json, os, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
DRIVER = ROOT/'tests'/'browser'/'drive.mjs'
CHROMIUM = os.environ.get('CHROMIUM') or shutil.which('chromium') or shutil.which('chromium-browser')
NODE = shutil.which('node')
missing = [what for what, ok in (('chromium', CHROMIUM), ('node', NODE), ('playwright-core', (DRIVER.parent/'node_modules'/'playwright-core').exists()),
                                 ('jupyterlab', shutil.which('jupyter-lab', path=str(Path(sys.executable).parent)))) if not ok]
pytestmark = pytest.mark.skipif(bool(missing), reason=f"browser test needs {', '.join(missing)} (make test installs them on Debian as root)")

FASHION = "import torch, tempfile\nfrom concept_attrib.core import ArtifactStore\nfrom concept_attrib.data import load_fashion_mnist, concept_dataset\nfashion = load_fashion_mnist()\nstore = ArtifactStore(tempfile.mkdtemp())\n"
SHARED = f"import sys; sys.path.insert(0, {str(ROOT/'tests')!r})\nimport setups\n"   # the setups the headless tests use
NOTEBOOKS = {
 'probe_explorer': FASHION + """from concept_attrib.models import SmallResNet, train_ensemble
from concept_attrib.probes import ProbeExplorer
ens = train_ensemble(SmallResNet(width=8), fashion, members=2, epochs=1, train_idx=torch.arange(3000), progress=False)
ProbeExplorer(ens, [concept_dataset(c, fashion) for c in ('footwear', 'brightness_share')], ks=(1, 5), probe_train=1500, probe_test=500)""",
 'attribution_explorer': FASHION + """from concept_attrib.models import SmallResNet, train_ensemble
from concept_attrib.attribution import TRAK, AttributionExplorer
idx = torch.arange(500)
ens = train_ensemble(SmallResNet(width=8), fashion, members=2, epochs=1, train_idx=idx, batch_size=64, progress=False)
trak = TRAK(ens, fashion, train_idx=idx, proj_dim=128, store=store, progress=False).featurize()
AttributionExplorer(trak, [concept_dataset(c, fashion) for c in ('footwear', 'high_low_frequency')], n_targets=20, classes=fashion.classes,
                    probe_kw=dict(probe_train=1000, probe_test=200))""",
 'ablation_explorer': FASHION + """from concept_attrib.models import SmallResNet, train_ensemble
from concept_attrib.probes import concept_features, layer_probes
from concept_attrib.attribution import TRAK, attribute_concept
from concept_attrib.counterfactual import counterfactual, AblationExplorer
idx = torch.arange(400)
ens = train_ensemble(SmallResNet(width=8), fashion, members=1, epochs=1, train_idx=idx, batch_size=64, progress=False)
trak = TRAK(ens, fashion, train_idx=idx, proj_dim=64, store=store, progress=False).featurize()
atts = []
for name in ('footwear', 'high_low_frequency'):
    c = concept_dataset(name, fashion)
    atts.append(attribute_concept(trak, c, layer_probes(concept_features(ens.models[0], c, 'stage3.0', probe_train=1000, probe_test=200), c, 'stage3.0')[None], n_targets=10))
cf = counterfactual(SmallResNet(width=8), fashion, idx, atts, ks=(20, 40), draws=1, retrainings=1, epochs=1, probe_train=500, probe_test=200, workers=1, store=store, progress=False)
AblationExplorer(cf, fashion)""",
 'component_explorer': FASHION + """from concept_attrib.models import SmallResNet, train
from concept_attrib.components import Components, mask_dataset, fit_coar, ComponentExplorer
model = train(SmallResNet(width=8), fashion, epochs=1, train_idx=torch.arange(2000), progress=False).model.eval()
comps = Components(model); x, y = fashion.test.x[:30], fashion.test.y[:30]
tr = mask_dataset(model, comps, x, y, m=200, store=store, progress=False)
te = mask_dataset(model, comps, x, y, m=50, seed=1, store=store, progress=False)
ComponentExplorer(model, comps, {'coar': fit_coar(tr)}, x, y, te, classes=fashion.classes)""",
 'tabular_backprop_explorer': SHARED + """from concept_attrib.backprop import TabularBackpropExplorer
mlp, probe, bpp = setups.tabular_backprop()
TabularBackpropExplorer(mlp, probe, bpp, steps=100)""",
 'image_backprop_explorer': FASHION + SHARED + """from concept_attrib.backprop import ImageBackpropExplorer
ImageBackpropExplorer(setups.image_backprop(fashion), steps=60)""",
 'concept_card_explorer': FASHION + SHARED + """setups.concept_card(fashion, store)""",
 'chess_explorer': SHARED + """from concept_attrib.chess import ChessExplorer
net, probes, cds = setups.chess()
ChessExplorer(net, probes, cds.test_fens[:20])""",
 'fact_tracing_explorer': SHARED + """setups.fact_tracing()""",
}

def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    import nbformat
    home = tmp_path_factory.mktemp('lab')
    work = home/'notebooks'; work.mkdir()
    for name, code in NOTEBOOKS.items():
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
        nb.metadata['kernelspec'] = dict(name='python3', display_name='Python 3', language='python')
        nbformat.write(nb, work/f'{name}.ipynb')
    quiet = home/'settings'/'@jupyterlab'/'apputils-extension'; quiet.mkdir(parents=True)   # no news or update pop-ups over the page
    (quiet/'notification.jupyterlab-settings').write_text(json.dumps(dict(fetchNews='false', checkForUpdates=False)))
    port = _free_port()
    (home/'tmp').mkdir()   # the kernels' temporary stores, removed with pytest's folder
    env = dict(os.environ, TMPDIR=str(home/'tmp'), JUPYTER_CONFIG_DIR=str(home/'config'), JUPYTER_RUNTIME_DIR=str(home/'runtime'), OMP_NUM_THREADS='1',
               JUPYTERLAB_SETTINGS_DIR=str(home/'settings'), JUPYTERLAB_WORKSPACES_DIR=str(home/'workspaces'))
    cmd = [str(Path(sys.executable).parent/'jupyter-lab'), '--no-browser', '--ip=127.0.0.1', f'--port={port}', f'--ServerApp.root_dir={work}',
           "--IdentityProvider.token=", "--ServerApp.password=", '--ServerApp.disable_check_xsrf=True', '--LabApp.expose_app_in_browser=True',
           '--ServerApp.open_browser=False'] + (['--allow-root'] if os.geteuid() == 0 else [])
    log = open(home/'lab.log', 'w')
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f'http://127.0.0.1:{port}'
    try:
        for _ in range(120):
            try: urllib.request.urlopen(f'{base}/api/status', timeout=2); break
            except Exception: time.sleep(1)
            if proc.poll() is not None: break
        else: pytest.fail(f"JupyterLab did not start: {(home/'lab.log').read_text()[-2000:]}")
        if proc.poll() is not None: pytest.fail(f"JupyterLab exited: {(home/'lab.log').read_text()[-2000:]}")
        yield base, home
    finally:
        os.killpg(proc.pid, 15)
        try: proc.wait(20)
        except subprocess.TimeoutExpired: os.killpg(proc.pid, 9)

@pytest.mark.parametrize('name', list(NOTEBOOKS))
def test_explorer_in_browser(lab, name):
    base, home = lab
    shots = ROOT/'reports'/'browser'; shots.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([NODE, str(DRIVER), base, f'{name}.ipynb', str(shots), '540'], capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, CHROMIUM=CHROMIUM))
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert not res['errors'], res['errors']
    assert len(res['explorers']) == 1, res
    for ex in res['explorers']:
        assert ex['changed'], f"{name}: changing {ex['control']} did not change what the explorer shows ({ex})"
        assert 'Error' not in ex['status'], ex['status']
    assert (shots/f'{name}-0-after.png').exists()
