// Reference outputs of a tfjs graph model of @vladmandic/human (e.g. faceres) under Node with tfjs' own backends
// (no native tfjs), the ground truth FaceDistill's graph importer is compared against.
//   node refs.js <model.json> <out.json> [crop.png ...]
// Inputs: (1) a fixed integer pattern, value(n, y, x, c) = (n·131 + y·17 + x·29 + c·71) mod 256, N = 2 (or the
// graph's fixed batch), at the
// model's input size; (2) each PNG crop as the net is fed: pixels / 255, tf.image.resizeBilinear to the input size
// (alignCorners false, TF's legacy sampling), × SCALE + OFFSET (default × 255 + 0, as human feeds faceres).
// Outputs: every signature output (or, for a graph without a signature, its unconsumed nodes), flattened, per input.
// BACKEND=cpu (default) or wasm; SCALE, OFFSET: the crops' affine map; GRAY=1: the resized crop turned grey first,
// as human feeds its emotion net (0.2989 R + 0.5870 G + 0.1140 B, human's constants.rgb; then SCALE=2 OFFSET=-1);
// OUTPUTS=node,node: inner nodes to record as well (e.g. the logits before a softmax); STRIDE=k keeps every k-th
// value of each output (k recorded in the file), for nets with large outputs (blazeface: 896 × 17 per image).
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const { PNG } = require('pngjs');

async function main() {
  const [modelJson, out, ...crops] = process.argv.slice(2);
  const backend = process.env.BACKEND || 'cpu';
  if (backend === 'wasm') {
    const wasm = require('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(path.join(__dirname, 'node_modules/@tensorflow/tfjs-backend-wasm/dist/'));
  }
  await tf.setBackend(backend);
  await tf.ready();
  const model = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
  const dir = path.dirname(modelJson);
  const specs = model.weightsManifest.flatMap((g) => g.weights);
  const data = Buffer.concat(model.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p)))));
  const weights = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  const graph = await tf.loadGraphModel(tf.io.fromMemory({ modelTopology: model.modelTopology, weightSpecs: specs, weightData: weights, signature: model.signature }));
  const shape = graph.inputs[0].shape;
  const [h, w, c] = [shape[1], shape[2], shape[3]];
  const cases = [];
  const batch = shape[0] > 0 ? shape[0] : 2; // a graph with a fixed batch (blazeface: 1) gets that many patterns
  const pattern = new Float32Array(batch * h * w * c);
  for (let n = 0; n < batch; n++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++)
    pattern[((n * h + y) * w + x) * c + k] = (n * 131 + y * 17 + x * 29 + k * 71) % 256;
  cases.push({ name: 'pattern', input: tf.tensor4d(pattern, [batch, h, w, c]) });
  for (const crop of crops) {
    const png = PNG.sync.read(fs.readFileSync(crop));
    const rgb = new Float32Array(png.width * png.height * 3);
    for (let i = 0; i < png.width * png.height; i++) for (let k = 0; k < 3; k++) rgb[3 * i + k] = png.data[4 * i + k] / 255;
    const img = tf.tensor4d(rgb, [1, png.height, png.width, 3]);
    let resized = tf.image.resizeBilinear(img, [h, w], false);
    if (process.env.GRAY === '1') resized = tf.sum(tf.mul(resized, tf.tensor1d([0.2989, 0.5870, 0.1140])), 3, true);
    const scale = Number(process.env.SCALE || 255), offset = Number(process.env.OFFSET || 0);
    cases.push({ name: path.basename(crop), input: tf.add(tf.mul(resized, scale), offset) });
  }
  const outputs = (model.signature?.outputs ? Object.values(model.signature.outputs).map((o) => o.name)
    : graph.outputs.map((o) => o.name)).concat((process.env.OUTPUTS || '').split(',').filter((o) => o));
  const result = { model: path.basename(modelJson), backend, tfjs: tf.version.tfjs, inputShape: shape,
    scale: Number(process.env.SCALE || 255), offset: Number(process.env.OFFSET || 0), gray: process.env.GRAY === '1',
    stride: Number(process.env.STRIDE || 1), cases: [] };
  for (const cs of cases) {
    const ys = graph.execute(cs.input, outputs);
    const arr = Array.isArray(ys) ? ys : [ys];
    const entry = { name: cs.name, outputs: {} };
    outputs.forEach((o, i) => { entry.outputs[o.split(':')[0]] = { shape: arr[i].shape,
      values: Array.from(arr[i].dataSync()).filter((_, j) => j % result.stride === 0) }; });
    result.cases.push(entry);
  }
  fs.writeFileSync(out, JSON.stringify(result));
  console.log(`wrote ${out}: ${result.cases.length} cases, outputs ${outputs.join(', ')} (${backend})`);
}
main().catch((e) => { console.error(e); process.exit(1); });
