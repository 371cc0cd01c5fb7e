"""Probe sweep speed and agreement with scikit-learn.

Trains one width-8 SmallResNet briefly on Fashion-MNIST, then:
- `probe_sweep_seconds_per_layer`: median over REPEATS of (time of `probe_layers` for footwear, dense and k=1,5,20,
  on 5,000 training / 2,000 test examples) / number of layers;
- `sklearn_accuracy_gap_points`: the largest |held-out accuracy of our dense probe - scikit-learn's
  LogisticRegression on the same objective|, in percentage points, over every layer.
"""
import os, statistics, time
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from concept_attrib.data import load_fashion_mnist, concept_dataset
from concept_attrib.models import SmallResNet, train
from concept_attrib.probes import probe_layers, layer_features, fit_probe, probe_metrics

REPEATS = int(os.environ.get('BENCH_REPEATS', 3))

def main():
    data = load_fashion_mnist()
    model = train(SmallResNet(width=8), data, epochs=1, train_idx=torch.arange(10000), progress=False).model
    fw = concept_dataset('footwear', data)
    layers = model.block_names
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter(); probe_layers(model, fw, ks=(1, 5, 20), probe_train=5000, probe_test=2000)
        times.append((time.perf_counter() - t0) / len(layers))
    tr, te = torch.arange(5000), torch.arange(2000)
    ftr, fte = layer_features(model, fw.x_train[tr], layers), layer_features(model, fw.x_test[te], layers)
    gaps = []
    for l in layers:
        ours = probe_metrics(fit_probe(ftr[l], fw.c_train[tr]), fte[l], fw.c_test[te])['accuracy']
        sc = StandardScaler().fit(ftr[l].numpy())
        sk = LogisticRegression(C=1 / (1e-3 * len(tr)), max_iter=10000).fit(sc.transform(ftr[l].numpy()),
                                                                            fw.c_train[tr].numpy())
        gaps.append(abs(ours - (sk.predict(sc.transform(fte[l].numpy())) == fw.c_test[te].numpy()).mean()) * 100)
    print(f"probe_sweep_seconds_per_layer: {statistics.median(times):.3f}")
    print(f"sklearn_accuracy_gap_points: {max(gaps):.2f}")

if __name__ == '__main__': main()
