// The zoo's real exported models for the benches: those named and installed (a skipped one is said
// on stderr), and the `input:` a system file gives each (shapes, and the values an input must have:
// If conditions, sample rates).
import { existsSync, readFileSync } from 'node:fs';
import { externalModels } from '@dnnpart/zoo';

/** The installed models of `names` (all installed ones when `names` is empty), in that order. */
export function installedExternal(names) {
  const all = externalModels();
  const out = [];
  for (const name of names.length > 0 ? names : all.map((m) => m.name)) {
    const m = all.find((x) => x.name === name);
    if (m?.available) out.push(m);
    else if (names.length > 0) console.error(`skipping ${name}: not installed`);
  }
  return out;
}

/** The CLI's `--input` arguments for `m`: `--input x=1x3x48x320 --input sr=:16000`. */
export function inputArgs(m) {
  return Object.entries(m.inputs).flatMap(([k, shape]) => ['--input', `${k}=${shape.join('x')}${m.values[k] ? `:${m.values[k].join(',')}` : ''}`]);
}

/**
 * The models a manifest lists (`[{ name, file, inputs: { name: shape }, values?: { name: [values] }, invalid?: true, exporter }]`, as
 * (`invalid`: a file onnxruntime refuses, which dnnpart must refuse in one line),
 * bench/torch-exports/export.py writes one), in the shape of an external model.
 */
export function manifestModels(file) {
  return JSON.parse(readFileSync(file, 'utf8')).map((m) => ({
    name: m.name, exporter: m.exporter, file: m.file, available: existsSync(m.file), inputs: m.inputs, values: m.values ?? {}, invalid: m.invalid === true, source: { package: file, version: '-' },
  }));
}

/** A system file's `input:` for `m`: `{ 'x': '1x3x48x320', 'sr': ':16000' }`-style. */
export function systemInput(m) {
  return `{ ${Object.entries(m.inputs).map(([k, shape]) => `'${k}': '${shape.join('x')}${m.values[k] ? `:${m.values[k].join(',')}` : ''}'`).join(', ')} }`;
}
