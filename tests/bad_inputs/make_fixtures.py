#!/usr/bin/env python3
"""Writes the malformed inputs of the bad-input catalogue (cases.tsv) into OUT_DIR.

    make_fixtures.py OUT_DIR ROOT [GOOD_MODEL]

Configs, CSVs and IDX files are made from scratch; model-file cases are mutations of
GOOD_MODEL (a small model trained by the runner), so they track the current writer.
Standard library only; the same arguments write the same bytes."""
import copy, gzip, json, os, random, struct, sys

out, root = sys.argv[1], sys.argv[2]
good_model = sys.argv[3] if len(sys.argv) > 3 else None
os.makedirs(out, exist_ok=True)
rng = random.Random(20240601)


def w(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# ---- configs -------------------------------------------------------------------------------
BASE = {
    "name": "bad",
    "seed": 1,
    "data": {"train": {"format": "csv", "path": os.path.join(root, "data/spirals.csv"), "label_column": "label"},
             "validation": {"split": 0.2}},
    "model": {"input_shape": [2],
              "layers": [{"type": "affine", "name": "fc1", "units": 16}, {"type": "relu"},
                         {"type": "affine", "name": "out", "units": 2}],
              "loss": "softmax_cross_entropy"},
    "training": {"epochs": 1, "batch_size": 32, "optimizer": {"type": "sgd", "lr": 0.1}},
}


def cfg(name, mutate=None, text=None):
    c = copy.deepcopy(BASE)
    if mutate:
        mutate(c)
    w(name + ".json", text if text is not None else json.dumps(c, indent=2) + "\n")


def setk(path, value):
    def m(c):
        node = c
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value
    return m


def layers(ls):
    return setk(["model", "layers"], ls)


good = json.dumps(BASE, indent=2) + "\n"
cfg("good")
cfg("syntax_missing_brace", text=good.rstrip().rstrip("}"))
cfg("syntax_trailing_comma", text=good.replace('"seed": 1,', '"seed": 1,,'))
cfg("syntax_single_quotes", text=good.replace('"name": "bad"', "'name': 'bad'"))
cfg("syntax_empty", text="")
cfg("syntax_nan", text=good.replace('"lr": 0.1', '"lr": NaN'))
cfg("not_an_object", text="[1, 2, 3]\n")
cfg("binary_garbage", text=bytes(rng.randrange(256) for _ in range(300)).decode("latin-1"))
cfg("number_overflow", text=good.replace('"lr": 0.1', '"lr": 1e400'))
cfg("deep_nesting", text=good.replace('"name": "bad"', '"name": ' + "[" * 100000 + "]" * 100000))
cfg("type_epochs_string", setk(["training", "epochs"], "ten"))
cfg("type_units_string", lambda c: c["model"]["layers"][0].update(units="16"))
cfg("type_layers_object", setk(["model", "layers"], {"type": "affine"}))
cfg("type_shuffle_number", setk(["training", "shuffle"], 3))
cfg("range_units_negative", lambda c: c["model"]["layers"][0].update(units=-3))
cfg("range_units_fraction", lambda c: c["model"]["layers"][0].update(units=2.5))
cfg("range_batch_zero", setk(["training", "batch_size"], 0))
cfg("range_lr_negative", setk(["training", "optimizer", "lr"], -0.1))
cfg("range_dropout_rate", lambda c: c["model"]["layers"].insert(2, {"type": "dropout", "rate": 1.5}))
cfg("range_split", setk(["data", "validation"], {"split": 1.5}))
cfg("range_epochs_zero", setk(["training", "epochs"], 0))
cfg("range_momentum", setk(["training", "optimizer", "momentum"], 7))
cfg("range_warmup", setk(["training", "lr_schedule"], {"type": "cosine", "warmup_epochs": -1}))
cfg("unknown_top_key", lambda c: c.update(trainig=c.pop("training")))
cfg("unknown_layer_key", lambda c: c["model"]["layers"][0].update(unit=c["model"]["layers"][0].pop("units")))
cfg("unknown_layer_type", lambda c: c["model"]["layers"][0].update(type="afine"))
cfg("unknown_optimizer", setk(["training", "optimizer", "type"], "adamm"))
cfg("unknown_schedule", setk(["training", "lr_schedule"], {"type": "cosinus"}))
cfg("unknown_loss", setk(["model", "loss"], "cross_entropy"))
cfg("unknown_monitor", setk(["training", "early_stopping"], {"monitor": "val_los"}))
cfg("graph_unknown_input", lambda c: c["model"]["layers"][1].update(inputs=["nope"]))
cfg("graph_forward_ref", lambda c: c["model"]["layers"][0].update(inputs=["out"]))
cfg("graph_self_ref", lambda c: c["model"]["layers"][0].update(inputs=["fc1"]))
cfg("graph_duplicate_name", lambda c: c["model"]["layers"][2].update(name="fc1"))
cfg("graph_add_mismatch", layers([{"type": "affine", "name": "a", "units": 8},
                                  {"type": "affine", "name": "b", "units": 4, "inputs": ["a"]},
                                  {"type": "add", "inputs": ["a", "b"]},
                                  {"type": "affine", "units": 2}]))
cfg("graph_add_one_input", layers([{"type": "affine", "name": "a", "units": 8},
                                   {"type": "add", "inputs": ["a"]}, {"type": "affine", "units": 2}]))
cfg("graph_empty_layers", layers([]))
cfg("huge_units", lambda c: c["model"]["layers"][0].update(units=10**12))
cfg("huge_units_product", lambda c: (c["model"]["layers"][0].update(units=1000000),
                                     c["model"]["layers"].insert(1, {"type": "affine", "units": 1000000})))
cfg("huge_input_shape", setk(["model", "input_shape"], [100000, 100000]))
cfg("missing_model", lambda c: c.pop("model"))
cfg("softmax_one_output", lambda c: c["model"]["layers"][2].update(units=1))
cfg("mse_on_classes", setk(["model", "loss"], "mse"))
cfg("softmax_on_regression", lambda c: (c["model"].update(input_shape=[1]), c["data"].update(
    train={"format": "csv", "path": os.path.join(root, "data/sine.csv"), "task": "regression",
           "target_columns": ["sin", "cos"]})))
cfg("features_mismatch", setk(["model", "input_shape"], [3]))
cfg("labels_out_of_range", setk(["data", "train"], {"format": "csv", "path": os.path.join(root, "data/blobs.csv"),
                                                    "label_column": "color"}))
cfg("missing_data_file", setk(["data", "train", "path"], "no-such-file.csv"))
cfg("label_column_missing", setk(["data", "train", "label_column"], "lable"))
cfg("data_format_unknown", setk(["data", "train", "format"], "parquet"))

# ---- CSV -----------------------------------------------------------------------------------
def csv_case(name, text):
    w(name + ".csv", text)
    cfg(name, setk(["data", "train"], {"format": "csv", "path": name + ".csv", "label_column": "label"}))


rows = "".join(f"{i * 0.1:.1f},{-i * 0.2:.1f},{i % 2}\n" for i in range(20))
csv_case("csv_ragged", "x,y,label\n" + rows + "0.5,0.25\n" + rows)
csv_case("csv_too_many_fields", "x,y,label\n" + "".join(rows.splitlines(True)[:3]) + "0.5,0.25,1,9\n" + rows)
csv_case("csv_non_numeric", "x,y,label\n" + rows + "0.5,abc,1\n")
csv_case("csv_nan", "x,y,label\n" + rows + "nan,0.5,1\n")
csv_case("csv_inf", "x,y,label\n" + rows + "0.5,inf,0\n")
csv_case("csv_empty", "")
csv_case("csv_header_only", "x,y,label\n")
csv_case("csv_binary", bytes(rng.randrange(256) for _ in range(2000)))
csv_case("csv_label_fraction", "x,y,label\n" + rows + "0.5,0.5,1.5\n")
csv_case("csv_label_negative", "x,y,label\n" + rows + "0.5,0.5,-1\n")
csv_case("csv_nul_byte", "x,y,label\n" + rows + "0.5,0\x00.5,1\n")

# Found by tests/fuzz (fuzz_csv): \n and lone \r line ends mixed overflowed the row buffer.
w("fuzz_csv_mixed_line_ends.csv", b"x,sin,cos\n2.66304,0.45957,\x01\x00\x00\x02-00\n-1.75293,-0.95550,\r060.74356")
cfg("fuzz_csv_mixed_line_ends", setk(["data", "train"], {"format": "csv", "path": "fuzz_csv_mixed_line_ends.csv",
                                                         "label_column": "cos"}))

# ---- IDX -----------------------------------------------------------------------------------
def idx(t, dims, payload):
    return bytes([0, 0, t, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


def idx_case(name, images, labels=None):
    w(name + "-images.idx", images)
    w(name + "-labels.idx", labels if labels is not None else idx(8, [4], bytes([0, 1, 0, 1])))
    cfg(name, lambda c: (c["data"].update(train={"format": "idx", "images": name + "-images.idx",
                                                 "labels": name + "-labels.idx"}, validation={"split": 0.25}),
                         c["model"].update(input_shape=[2, 2])))


img = bytes(range(16))
idx_case("idx_bad_magic", b"\x08\x00\x08\x03" + idx(8, [4, 2, 2], img)[4:])
idx_case("idx_unknown_type", idx(0x0A, [4, 2, 2], img))
idx_case("idx_zero_dims", bytes([0, 0, 8, 0]))
idx_case("idx_truncated_header", idx(8, [4, 2, 2], b"")[:9])
idx_case("idx_truncated_data", idx(8, [4, 2, 2], img[:10]))
idx_case("idx_trailing_data", idx(8, [4, 2, 2], img + b"xx"))
idx_case("idx_dim_overflow", idx(8, [0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF], img))
idx_case("idx_count_mismatch", idx(8, [4, 2, 2], img), idx(8, [5], bytes([0, 1, 0, 1, 0])))
idx_case("idx_labels_float", idx(8, [4, 2, 2], img), idx(0x0D, [4], struct.pack(">4f", 0, 1, 0, 1)))
idx_case("idx_empty", b"")
gz = gzip.compress(idx(8, [4, 2, 2], img), mtime=0)
idx_case("idx_corrupt_gzip", gz[:12] + bytes(b ^ 0x5A for b in gz[12:-8]) + gz[-8:])
idx_case("idx_truncated_gzip", gz[: len(gz) - 10])
# A 3 GB data set's image file cut 64 KiB after its header: an error at load (from the file
# size), before anything is mapped or trained.
idx_case("idx_big_truncated", idx(8, [3825664, 28, 28], img * 4096))
idx_case("idx_gzip_claims_huge", gzip.compress(idx(8, [60000, 784, 784], img), mtime=0))

# Found by tests/fuzz (fuzz_idx): a zero dimension (0 values per sample; an f32 copy from null).
fuzz_idx = bytes.fromhex("00000d060000000200804000" "3f0002000000000040400000" "40800000")
w("fuzz_idx_zero_dim.idx", fuzz_idx)
idx_case("fuzz_idx_zero_dim", idx(0x0D, [2, 0], b""), idx(8, [2], bytes([0, 1])))
# ... and zero dims hiding a sample-size product beyond 2^63 (signed overflow in Shape::size).
w("fuzz_idx_dims_overflow.idx", bytes.fromhex("00000e080000000100000002" "7ff00001c1000000" "0000000000000000" "4000000000000000"))
cfg("fuzz_idx_dims_overflow", lambda c: c["data"].update(train={"format": "idx", "images": "fuzz_idx_dims_overflow.idx",
                                                                "labels": "idx_count_mismatch-labels.idx"}))

# ---- model files ---------------------------------------------------------------------------
def st_parse(b):
    n = struct.unpack("<Q", b[:8])[0]
    return json.loads(b[8:8 + n]), b[8 + n:]


def st_build(header, data, raw_header=None):
    h = raw_header if raw_header is not None else json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(h)) + h + data


w("model_empty.safetensors", b"")
w("model_random.safetensors", bytes(rng.randrange(256) for _ in range(4096)))
w("model_short.safetensors", b"\x10\x00\x00")
w("model_huge_header.safetensors", struct.pack("<Q", 2**62) + b"{}")
w("model_header_past_end.safetensors", struct.pack("<Q", 5000) + b'{"a": 1}')
w("model_bad_json.safetensors", st_build(None, b"", raw_header=b'{"fc1.weight": {"dtype": "F32",'))
w("model_header_array.safetensors", st_build([1, 2], b""))
if good_model:
    gb = open(good_model, "rb").read()
    H, D = st_parse(gb)
    meta = H["__metadata__"]

    def model_case(name, mutate=None, data=None, raw=None):
        h = copy.deepcopy(H)
        if mutate:
            mutate(h)
        w(name + ".safetensors", raw if raw is not None else st_build(h, D if data is None else data))

    def tensor_set(t, k, v):
        return lambda h: h[t].__setitem__(k, v)

    def meta_set(k, v):
        return lambda h: h["__metadata__"].__setitem__(k, v)

    def stored_config(mut):
        def m(h):
            c = json.loads(h["__metadata__"]["config"])
            mut(c)
            h["__metadata__"]["config"] = json.dumps(c)
        return m

    model_case("model_truncated_data", raw=gb[: len(gb) - 100])
    model_case("model_offsets_out_of_range", tensor_set("fc1.weight", "data_offsets", [0, 10**9]))
    model_case("model_offsets_reversed", tensor_set("fc1.weight", "data_offsets", [64, 0]))
    model_case("model_offsets_overlap", tensor_set("out.bias", "data_offsets", H["fc1.weight"]["data_offsets"][:1] +
                                                   [H["fc1.weight"]["data_offsets"][0] + 8]))
    model_case("model_shape_vs_bytes", tensor_set("fc1.weight", "shape", [3, 16]))
    model_case("model_shape_vs_arch", tensor_set("fc1.weight", "shape", [16, 2]))
    model_case("model_dtype_f16", tensor_set("out.bias", "dtype", "F16"), )
    model_case("model_dtype_unknown", tensor_set("out.bias", "dtype", "F33"))
    model_case("model_shape_negative", tensor_set("out.bias", "shape", [-2]))
    model_case("model_shape_overflow", tensor_set("out.bias", "shape", [2**40, 2**40]))
    model_case("model_missing_tensor", lambda h: h.pop("out.bias"))
    model_case("model_extra_tensor", lambda h: h.__setitem__("ghost.weight", {"dtype": "F32", "shape": [0],
                                                                             "data_offsets": [len(D), len(D)]}))
    model_case("model_no_metadata", lambda h: h.pop("__metadata__"))
    model_case("model_wrong_format", meta_set("format", "pytorch"))
    model_case("model_config_not_json", meta_set("config", "{not json"))
    model_case("model_config_unknown_layer", stored_config(lambda c: c["model"]["layers"][1].update(type="relux")))
    model_case("model_config_bigger_net", stored_config(lambda c: c["model"]["layers"][0].update(units=17)))
    model_case("model_metadata_not_string", meta_set("format", 7))
    model_case("model_class_names_count", meta_set("class_names", '["a", "b", "c"]'))
    nan_data = bytearray(D)
    b0 = H["fc1.weight"]["data_offsets"][0]
    nan_data[b0:b0 + 4] = struct.pack("<f", float("nan"))
    model_case("model_nan_weight", data=bytes(nan_data))
    model_case("model_arch_not_json", meta_set("architecture", "[{"))
    model_case("model_header_number_overflow", raw=st_build(None, D, raw_header=json.dumps(H).replace(
        '"shape": [2]', '"shape": [1e999]', 1).encode()))
    # --resume from a run directory whose checkpoint is a plain model, or whose checkpoint lost its
    # trainer state.
    for name, mut in (("resume_not_checkpoint", None),
                      ("resume_no_trainer_state", lambda h: (h["__metadata__"].update(format="nettrain-checkpoint-1"),
                                                             h["__metadata__"].update(optimizer='{"type": "sgd", "steps": 1, "state": []}'),
                                                             h["__metadata__"].update(schedule_state="{}")))):
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        h = copy.deepcopy(H)
        if mut:
            mut(h)
        with open(os.path.join(d, "checkpoint.safetensors"), "wb") as f:
            f.write(st_build(h, D))
        with open(os.path.join(d, "config.json"), "w") as f:
            f.write(meta["config"])
