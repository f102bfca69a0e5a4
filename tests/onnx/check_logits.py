"""ONNX Runtime's logits of every exported case must equal rotor's.

    check_logits.py ROTOR_BIN CASES_DIR

CASES_DIR is what rotor_onnx_cases wrote: images.npy (N, 1, 28, 28) float32
pixels / 255, and per case NAME.rotor with rotor's logits NAME.logits.npy.
Each model file is exported with `rotor export`, run by ONNX Runtime on the
images, and compared:

    max |ort - rotor| <= 1e-5 * max(1, max |rotor|)

Why 1e-5 relative to the largest logit (or 1e-5 absolute for logits under
1): both sides compute in float32 but round differently (rotor's batch norm
works in double and fuses the RReLU; ONNX Runtime folds batch norm into the
conv weights and sums the convs in another order). Measured: at most 6e-7
of the largest logit over these cases (ResNet-20 the largest), so the bound
leaves a margin of 15; a wrong channel, slope or shortcut moves the logits
by a good fraction of their size. Exits 1 naming the case.
"""
import os
import subprocess
import sys

import numpy as np
import onnxruntime as ort

EXPECTED = [
    "fcnn-rrelu", "fcnn-rrelu-pruned", "resnet20-rrelu", "resnet20-rrelu-pruned",
    "resnet20-rrelu-pruned-retrained",
    "wrn-10-2-rrelu", "wrn-10-2-rrelu-pruned", "resnet8-relu", "fcnn-64-relu",
    "resnet8-dead-branch-pruned", "resnet8-dead-stream-pruned", "wrn-10-1-dead-parts-pruned",
]
RTOL = 1e-5


def main():
    rotor, cases = sys.argv[1], sys.argv[2]
    images = np.load(os.path.join(cases, "images.npy"))
    assert images.dtype == np.float32 and images.ndim == 4, images.shape
    print(f"onnxruntime {ort.__version__}, {images.shape[0]} images {images.shape[1:]}")
    failed = []
    for name in EXPECTED:
        model = os.path.join(cases, name + ".rotor")
        onnx_file = os.path.join(cases, name + ".onnx")
        run = subprocess.run([rotor, "export", "--model-file", model, "--format", "onnx", "--out", onnx_file,
                              "--force"], capture_output=True, text=True)
        if run.returncode != 0:
            print(f"FAIL {name}: rotor export exited {run.returncode}: {run.stdout}{run.stderr}")
            failed.append(name)
            continue
        session = ort.InferenceSession(onnx_file, providers=["CPUExecutionProvider"])
        inputs, outputs = session.get_inputs(), session.get_outputs()
        assert [i.name for i in inputs] == ["image"] and [o.name for o in outputs] == ["logits"], name
        got = session.run(["logits"], {"image": images})[0]
        want = np.load(os.path.join(cases, name + ".logits.npy"))
        if got.shape != want.shape:
            print(f"FAIL {name}: logits shape {got.shape}, rotor's {want.shape}")
            failed.append(name)
            continue
        diff = float(np.max(np.abs(got.astype(np.float64) - want)))
        largest = float(np.max(np.abs(want)))
        scale = max(1.0, largest)
        same_class = float(np.mean(got.argmax(1) == want.argmax(1)))
        ok = diff <= RTOL * scale
        print(f"{'ok  ' if ok else 'FAIL'} {name:28s} max|diff| {diff:.3e}  max|logit| {largest:6.3f}  "
              f"diff/max(1,max|logit|) {diff / scale:.1e}  same argmax {100 * same_class:.0f}%  "
              f"({os.path.getsize(onnx_file) / 1e6:.2f} MB)")
        if not ok:
            failed.append(name)
    if failed:
        print(f"{len(failed)} of {len(EXPECTED)} cases differ: {', '.join(failed)}")
        return 1
    print(f"all {len(EXPECTED)} cases agree within {RTOL:g} of the largest logit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
