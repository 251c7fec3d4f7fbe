// Runs an exported ONNX model with ONNX Runtime (npm onnxruntime-node, installed by
// scripts/setup.sh) for tests/cli/export.sh:
//   node onnx_run.js ORT_MODULE_DIR MODEL.onnx FEATURES.f32 ROWS COLS OUT_PREFIX
// FEATURES.f32 holds ROWS x COLS little-endian float32 values, fed as the input "input".
// Writes OUT_PREFIX.<output name>.f32 for each output and OUT_PREFIX.json with the names,
// dims, input names and the opset domain list, so the caller can check the contract.
'use strict';
const fs = require('fs');

async function main() {
  const [moduleDir, model, features, rowsArg, colsArg, prefix] = process.argv.slice(2);
  const ort = require(moduleDir);
  const rows = Number(rowsArg), cols = Number(colsArg);
  const buf = fs.readFileSync(features);
  if (buf.length !== rows * cols * 4) throw new Error(`${features}: ${buf.length} bytes, expected ${rows * cols * 4}`);
  const data = new Float32Array(buf.buffer, buf.byteOffset, rows * cols);
  const session = await ort.InferenceSession.create(model);
  const results = await session.run({ input: new ort.Tensor('float32', data, [rows, cols]) });
  const summary = { inputs: session.inputNames, outputs: {} };
  for (const name of session.outputNames) {
    const t = results[name];
    fs.writeFileSync(`${prefix}.${name}.f32`, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    summary.outputs[name] = t.dims.map(Number);
  }
  fs.writeFileSync(`${prefix}.json`, JSON.stringify(summary));
}

main().catch((e) => {
  console.error(`onnx_run.js: ${e.message || e}`);
  process.exit(1);
});
