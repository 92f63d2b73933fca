// What this board can really run: try each execution provider onnxruntime-node was built with on
// a one-node model, once, when the agent starts.
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Engine } from './types.js';

function varint(n: number): number[] {
  const b: number[] = [];
  while (n > 127) {
    b.push((n & 127) | 128);
    n >>>= 7;
  }
  b.push(n);
  return b;
}
const len = (no: number, bytes: number[]): number[] => [...varint((no << 3) | 2), ...varint(bytes.length), ...bytes];
const int = (no: number, n: number): number[] => [...varint(no << 3), ...varint(n)];
const str = (s: string): number[] => [...Buffer.from(s)];

/** An ONNX model `y = Identity(x)`, x float32[1], encoded by hand (no protobuf dependency on the board). */
export function identityModel(): Uint8Array {
  const valueInfo = (name: string) => [...len(1, str(name)), ...len(2, len(1, [...int(1, 1), ...len(2, len(1, int(1, 1)))]))];
  const node = [...len(1, str('x')), ...len(2, str('y')), ...len(4, str('Identity'))];
  const graph = [...len(1, node), ...len(2, str('probe')), ...len(11, valueInfo('x')), ...len(12, valueInfo('y'))];
  return Uint8Array.from([...int(1, 8), ...len(8, [...len(1, []), ...int(2, 13)]), ...len(7, graph)]);
}

const PROVIDERS: readonly [string, Engine][] = [['cpu', 'onnxruntime-cpu'], ['cuda', 'onnxruntime-cuda'], ['tensorrt', 'onnxruntime-tensorrt']];

/** Whether onnxruntime-node's binary directory has the provider's library (without it, a probe only logs errors). */
function hasProviderLibrary(ep: string): boolean {
  try {
    const root = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    const dir = join(root, 'bin', 'napi-v6', process.platform, process.arch);
    return readdirSync(dir).some((f) => f.includes(`providers_${ep}`)) && existsSync(join(dir, 'libonnxruntime_providers_shared.so'));
  } catch {
    return false;
  }
}

/** Execution providers that run the probe model here, and the engines they give. */
export async function probeEngines(): Promise<{ providers: string[]; engines: Engine[] }> {
  const built = new Set(ort.listSupportedBackends?.().map((b) => b.name) ?? ['cpu']);
  const model = identityModel();
  const providers: string[] = [];
  const engines: Engine[] = [];
  for (const [ep, engine] of PROVIDERS) {
    if (!built.has(ep) || (ep !== 'cpu' && !hasProviderLibrary(ep))) continue;
    try {
      // Severity 4 (fatal only): a provider whose libraries are missing is an answer, not noise.
      const s = await ort.InferenceSession.create(model, { executionProviders: [ep], logSeverityLevel: 4 });
      await s.run({ x: new ort.Tensor('float32', new Float32Array([1]), [1]) });
      await s.release();
      providers.push(ep);
      engines.push(engine);
    } catch {
      // not available on this board
    }
  }
  return { providers, engines };
}
