#!/usr/bin/env python3
# Real PyTorch exports of speech and audio models for `node bench/real-models-cli.mjs --manifest
# <out dir>/manifest.json`: torchaudio's own architectures (Debian's python3-torchaudio 0.13,
# randomly initialised: no hub with trained weights is reachable here, and timing, memory and the
# graph do not depend on the weights), written by Debian's torch.onnx.export (TorchScript exporter
# of torch 1.13) as a user of that torch would: fixed shapes at opset 17, and two with dynamic time
# axes (one at opset 13, where LayerNormalization and GELU are written op by op).
# Needs: apt-get install python3-torch python3-torchaudio (not in CI).
# Usage: /usr/bin/python3 bench/torch-exports/export_audio.py <out dir> [name ...]
# Writes <out dir>/<name>.onnx and <out dir>/manifest.json (name, file, input shapes, the values of
# inputs a user fixes, exporter, opset). Models torch exports as files onnxruntime refuses (Emformer,
# WaveRNN: see bench/results/real-models.md) are written too, and listed with `invalid: true`.
import json, os, sys, time
import torch, torchaudio
import torchaudio.models as M

OUT = sys.argv[1] if len(sys.argv) > 1 else '/tmp/dnnpart-audio-exports'
ONLY = set(sys.argv[2:])
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)


class First(torch.nn.Module):
    """wav2vec2 / HuBERT return (features, lengths); a user exports the features."""
    def __init__(self, m):
        super().__init__(); self.m = m
    def forward(self, *xs):
        return self.m(*xs)[0]


def conformer():
    return M.Conformer(input_dim=80, num_heads=4, ffn_dim=256, num_layers=4, depthwise_conv_kernel_size=31)


def emformer():
    return M.Emformer(input_dim=512, num_heads=8, ffn_dim=2048, num_layers=4, segment_length=4, right_context_length=1)


F = lambda *s: ('float', list(s))
I = lambda *s: ('int64', list(s))
DYN_TIME = {'features': {0: 'batch', 1: 'time'}, 'lengths': {0: 'batch'}, 'output': {0: 'batch', 1: 'time'}}
# name: (builder, inputs {name: (type, shape)}, fixed values {name: [values]}, opset, note, dynamic axes, invalid)
MODELS = {
    'ta-wav2vec2_base': (lambda: First(M.wav2vec2_base()), {'waveform': F(1, 16000)}, {}, 17, 'wav2vec 2.0 base: 7 strided 1-D convs with GroupNorm, a grouped positional conv, 12 post-norm transformer layers', None, False),
    'ta-hubert_base': (lambda: First(M.hubert_base()), {'waveform': F(1, 16000)}, {}, 17, 'HuBERT base: the wav2vec 2.0 encoder with LayerNorm in the feature extractor', None, False),
    'ta-wav2vec2_base-op13-dyn': (lambda: First(M.wav2vec2_base()), {'waveform': F(1, 16000)}, {}, 13, 'wav2vec 2.0 base at opset 13 with dynamic batch and samples: LayerNormalization and GELU op by op', {'waveform': {0: 'batch', 1: 'samples'}, 'output': {0: 'batch', 1: 'frames'}}, False),
    'ta-conv_tasnet': (lambda: M.conv_tasnet_base(num_sources=2), {'mixture': F(1, 1, 8000)}, {}, 17, 'Conv-TasNet: encoder conv, 3x8 dilated depthwise 1-D conv blocks with PReLU and global LayerNorm, masks, transposed-conv decoder', None, False),
    'ta-conformer': (lambda: First(conformer()), {'features': F(1, 200, 80), 'lengths': I(1)}, {'lengths': [200]}, 17, 'Conformer (4 layers, 80 dims): macaron FFNs, masked self-attention from the lengths input, depthwise conv module with GLU and BatchNorm', None, False),
    'ta-conformer-dyn': (lambda: First(conformer()), {'features': F(1, 200, 80), 'lengths': I(1)}, {'lengths': [200]}, 17, 'the Conformer with dynamic batch and time axes', DYN_TIME, False),
    'ta-deepspeech': (lambda: M.DeepSpeech(n_feature=80, n_hidden=512), {'features': F(1, 1, 200, 80)}, {}, 17, 'DeepSpeech: 3 dense layers with clipped ReLU, a bidirectional RNN, log-softmax', None, False),
    'ta-wav2letter': (lambda: M.Wav2Letter(num_classes=40, input_type='mfcc', num_features=13), {'mfcc': F(1, 13, 200)}, {}, 17, 'Wav2Letter: 11 wide 1-D convs on MFCCs', None, False),
    'ta-emformer': (lambda: emformer(), {'features': F(1, 33, 512), 'lengths': I(1)}, {'lengths': [32]}, 17, 'Emformer (streaming transformer): torch 1.13 writes a Concat of 3-D tensors with an empty 1-D one, which onnxruntime refuses', None, True),
    'ta-wavernn': (lambda: M.WaveRNN(upsample_scales=[5, 5, 8], n_classes=256, hop_length=200), {'waveform': F(1, 1, 1400), 'specgram': F(1, 1, 128, 11)}, {}, 17, 'WaveRNN vocoder: torch 1.13 writes an Unsqueeze at an axis past the rank, which onnxruntime refuses', None, True),
}

manifest = []
for name, (build, inputs, values, opset, note, dyn, invalid) in MODELS.items():
    if ONLY and name not in ONLY:
        continue
    t0 = time.time()
    m = build().eval()
    args = tuple(torch.tensor(values[k], dtype=torch.int64) if k in values else torch.rand(*shape) if t == 'float' else torch.zeros(*shape, dtype=torch.int64) for k, (t, shape) in inputs.items())
    names = list(inputs.keys())
    file = os.path.join(OUT, f'{name}.onnx')
    kw = {'dynamic_axes': dyn} if dyn else {}
    try:
        with torch.no_grad():
            torch.onnx.export(m, args, file, opset_version=opset, input_names=names, output_names=['output'], do_constant_folding=True, **kw)
    except Exception as e:  # an export torch itself cannot do is recorded, not fatal
        print(f'{name}: export failed: {type(e).__name__}: {str(e).splitlines()[0][:200]}', file=sys.stderr)
        continue
    size = os.path.getsize(file)
    entry = {'name': name, 'file': file, 'inputs': {k: shape for k, (_, shape) in inputs.items()}, 'values': values,
             'exporter': f'torch.onnx {torch.__version__} (torchaudio {torchaudio.__version__})', 'opset': opset, 'kind': 'audio', 'description': note, 'bytes': size}
    if invalid:
        entry['invalid'] = True
    manifest.append(entry)
    print(f'{name}: {size / 1e6:.1f} MB in {time.time() - t0:.1f} s', file=sys.stderr)

with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
    json.dump(manifest, f, indent=1)
print(os.path.join(OUT, 'manifest.json'))
