"""Helpers of tests/cli/export.sh: check an exported ONNX file with the onnx package (Debian
python3-onnx) and compare ONNX Runtime's outputs with `nettrain predict --probs`.

  check MODEL.onnx OPSET FEATURES OUTPUTS [BATCH]   onnx.checker (full_check) and the contract
  features SRC OUT.f32 [DROP_COLUMN...]             CSV (header) or IDX(.gz) -> raw float32; prints "ROWS COLS"
  compare PRED.csv PREFIX                           ORT outputs (onnx_run.js) vs predict's CSV
  subset IMAGES LABELS N OUT_PREFIX                 the first N samples of an IDX pair, gzip
  random_csv OUT ROWS COLS [LABELS] [--pixels]      random features (and labels 0..LABELS-1)
"""
import csv, gzip, json, struct, sys
import numpy as np

TOL = 1e-5


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def check(model_path, opset, features, outputs, batch=None):
    import onnx
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    ops = {o.domain: o.version for o in model.opset_import}
    if ops.get("", None) != int(opset):
        fail(f"{model_path}: opset {ops}, expected {opset}")
    g = model.graph

    def dims(v):
        return [d.dim_value if d.HasField("dim_value") else d.dim_param for d in v.type.tensor_type.shape.dim]

    want_batch = int(batch) if batch else "batch"
    if [i.name for i in g.input] != ["input"] or dims(g.input[0]) != [want_batch, int(features)]:
        fail(f"{model_path}: inputs {[(i.name, dims(i)) for i in g.input]}, expected input [{want_batch}, {features}]")
    names = [o.name for o in g.output]
    if names != outputs.split(","):
        fail(f"{model_path}: outputs {names}, expected {outputs}")
    for o in g.output:
        if dims(o)[0] != want_batch:
            fail(f"{model_path}: output {o.name} dims {dims(o)}")
    meta = {p.key: p.value for p in model.metadata_props}
    for key in ("nettrain_version", "class_names", "loss", "inputs"):
        if key not in meta:
            fail(f"{model_path}: metadata_props lacks {key}: {meta}")
    json.loads(meta["class_names"])
    print(f"{model_path}: checker ok, opset {opset}, ir {model.ir_version}, {len(g.node)} nodes: "
          + " ".join(sorted({n.op_type for n in g.node})))


def read_idx(path):
    raw = (gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open)(path, "rb").read()
    ndim, kind = raw[3], raw[2]
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    assert kind == 0x08, "u8 IDX only"
    return np.frombuffer(raw[4 + 4 * ndim:], np.uint8).reshape(dims), raw[:4 + 4 * ndim]


def features(src, out, *drop):
    if src.endswith(".csv"):
        with open(src, newline="") as f:
            rows = list(csv.reader(f))
        keep = [i for i, h in enumerate(rows[0]) if h not in drop]
        x = np.array([[float(r[i]) for i in keep] for r in rows[1:]], np.float32)
    else:
        a, _ = read_idx(src)
        x = a.reshape(a.shape[0], -1).astype(np.float32)
    x.astype("<f4").tofile(out)
    print(x.shape[0], x.shape[1])


def load_outputs(prefix):
    info = json.load(open(prefix + ".json"))
    return {name: np.fromfile(f"{prefix}.{name}.f32", "<f4").reshape(d) for name, d in info["outputs"].items()}


def compare(pred_csv, prefix):
    with open(pred_csv, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    out = load_outputs(prefix)
    if header[1] != "predicted":  # regression: index,y0,y1,...
        ours = np.array([[float(v) for v in r[1:]] for r in body])
        diff = np.abs(ours - out["output"]).max()
        print(f"{prefix}: {len(body)} samples, max |output difference| {diff:.2e}")
        if not diff <= TOL:
            fail(f"{prefix}: outputs differ by {diff} > {TOL}")
        return
    names = [h[2:] for h in header if h.startswith("p_")]
    ours = np.array([[float(r[header.index("p_" + n)]) for n in names] for r in body])
    logits, probs = out["logits"], out["probabilities"]
    if logits.shape[1] == 1:  # binary: one sigmoid output; predict prints 1 - p and p
        theirs_pred = (logits[:, 0] > 0).astype(int)
        probs = np.stack([1 - probs[:, 0], probs[:, 0]], axis=1)
    else:
        theirs_pred = logits.argmax(axis=1)
    agree = sum(names[c] == r[1] for c, r in zip(theirs_pred, body))
    diff = np.abs(ours - probs).max()
    print(f"{prefix}: {len(body)} samples, argmax agreement {agree}/{len(body)}, max |probability difference| {diff:.2e}")
    if agree != len(body) or not diff <= TOL:
        fail(f"{prefix}: agreement {agree}/{len(body)}, max difference {diff} (tolerance {TOL})")


def subset(images, labels, n, prefix):
    n = int(n)
    for src, dst in ((images, prefix + "-images.gz"), (labels, prefix + "-labels.gz")):
        a, head = read_idx(src)
        dims = (n,) + a.shape[1:]
        with gzip.open(dst, "wb") as f:
            f.write(head[:4] + struct.pack(">" + "I" * len(dims), *dims) + a[:n].tobytes())


def random_csv(out, rows, cols, labels="0", *flags):
    rng = np.random.default_rng(7)
    rows, cols, labels = int(rows), int(cols), int(labels)
    x = rng.integers(0, 256, (rows, cols)) if "--pixels" in flags else rng.normal(0, 1.5, (rows, cols)).round(4)
    with open(out, "w") as f:
        f.write(",".join([f"x{j}" for j in range(cols)] + (["label"] if labels else [])) + "\n")
        for i in range(rows):
            cells = [str(v) for v in x[i]] + ([str(rng.integers(0, labels))] if labels else [])
            f.write(",".join(cells) + "\n")


if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])
