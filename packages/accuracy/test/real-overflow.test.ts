// Silero VAD v4 in float16: its spectrogram multiplies the STFT magnitude by about 2^20 before the
// log (1.6e7 on audio-range inputs, far past float16's 65504), so that stage turns Inf/NaN. The plan's fidelity then collapsed (cosine 0.22) with nothing saying
// why; now a warning names the stage and the tensor.
import { describe, expect, it } from 'vitest';
import { loadModel } from '@dnnpart/onnx-graph';
import { findExternalModel } from '@dnnpart/zoo';
import { evaluatePlan, type Precision } from '@dnnpart/accuracy';

const m = findExternalModel('silero-vad-v4')!;
const specs = { input: { shape: [1, 512] }, sr: { shape: [], value: [16000] }, h: { shape: [2, 1, 64] }, c: { shape: [2, 1, 64] } };

describe('silero-vad-v4: a float16 stage that overflows', () => {
  if (!m.available && process.env.CI === 'true') throw new Error(`${m.name}: ${m.source.package}@${m.source.version} is not installed; npm ci installs it`);

  it.each<[string, Precision[], boolean]>([
    ['fp16 spectrogram stage', ['fp16', 'fp16'], true],
    ['fp32 spectrogram stage, fp16 rest', ['fp32', 'fp16'], false],
  ])('%s', async (_, precision, overflows) => {
    if (!m.available) {
      console.warn(`skipped ${m.name}: ${m.source.package} is not installed`);
      return;
    }
    const model = await loadModel(m.file, { inputShapes: specs });
    const spect = model.graph.tensors.get('spect0.1')!;
    // Generated inputs are uniform in [-1, 1]: the range of audio samples.
    const r = await evaluatePlan(model, { split: { after: [spect.producer!] }, precision, samples: 4 });
    const warned = r.warnings.filter((w) => w.includes('has Inf or NaN values'));
    if (overflows) {
      expect(warned).toEqual(['stage 0 (fp16): spect0.1 has Inf or NaN values where float32 has none (float16 overflows past 65504); its fidelity is meaningless: keep stage 0 in fp32']);
      expect(r.cosine).toBeLessThan(0.9);
      // Said before it runs too: the constant (2^20, initializer 196) has no float16 value.
      expect(r.warnings).toContain("stage 0: silero_vad: 1 constant value(s) past float16's 65504 become +-Inf in float16 (first in 196)");
    } else {
      expect(warned).toEqual([]);
      expect(r.cosine).toBeGreaterThan(0.999);
    }
  });
});
