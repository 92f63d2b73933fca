#!/usr/bin/env python3
# Real PyTorch exports for `node bench/real-models-cli.mjs --manifest <out dir>/manifest.json`: torchvision's own architectures (Debian's
# python3-torchvision, randomly initialised: the hubs with trained weights are not reachable here,
# and timing, memory and the graph's structure do not depend on the weights), written by Debian's
# torch.onnx.export (TorchScript exporter) as a user of that torch would write them.
# Needs: apt-get install python3-torch python3-torchvision (about 250 packages; not in CI).
# Usage: /usr/bin/python3 bench/torch-exports/export.py <out dir> [name ...]
# Writes <out dir>/<name>.onnx and <out dir>/manifest.json (name, file, input shapes, exporter, opset).
import json, os, sys, time
import torch, torchvision
from torchvision import models

OUT = sys.argv[1] if len(sys.argv) > 1 else '/tmp/dnnpart-torch-exports'
ONLY = set(sys.argv[2:])
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)

def image(side, batch=1):
    return {'input': [batch, 3, side, side]}

# name: (builder, inputs, opset, kind, note, extra export kwargs)
MODELS = {
    # Classifiers: depthwise + squeeze-excite + hardswish, channel shuffle, NAS, RegNet's groups.
    'tv-mobilenet_v3_large': (lambda: models.mobilenet_v3_large(), image(224), 17, 'classifier', 'Hardswish, Hardsigmoid squeeze-excite, depthwise', {}),
    'tv-shufflenet_v2_x1_0': (lambda: models.shufflenet_v2_x1_0(), image(224), 17, 'classifier', 'channel shuffle as Reshape/Transpose/Reshape, Split (chunk)', {}),
    'tv-regnet_y_400mf': (lambda: models.regnet_y_400mf(), image(224), 17, 'classifier', 'grouped convs, squeeze-excite', {}),
    'tv-efficientnet_v2_s': (lambda: models.efficientnet_v2_s(), image(224), 17, 'classifier', 'fused MBConv, SiLU, stochastic depth (eval)', {}),
    'tv-densenet121': (lambda: models.densenet121(), image(224), 17, 'classifier', 'dense Concat of every earlier feature map in a block', {}),
    'tv-inception_v3': (lambda: models.inception_v3(init_weights=False, aux_logits=True), image(299), 17, 'classifier', 'transform_input arithmetic (Gather/Unsqueeze/Mul/Add/Concat), four-branch blocks', {}),
    'tv-convnext_tiny': (lambda: models.convnext_tiny(), image(224), 17, 'transformer', 'LayerNorm over channels by Permute, 7x7 depthwise, layer scale', {}),
    'tv-swin_t': (lambda: models.swin_t(), image(224), 17, 'transformer', 'shifted windows: roll as Slice/Concat, window partition Reshape/Permute, relative position bias Gather, masked attention', {}),
    'tv-vit_b_16': (lambda: models.vit_b_16(), image(224), 17, 'transformer', 'ViT-B/16: class token Expand/Concat, nn.MultiheadAttention op by op, GELU', {'grad': True}),
    # Detection and segmentation: NMS, TopK, RoIAlign, data-sized boxes, Resize to the input.
    'tv-ssdlite320_mobilenet_v3_large': (lambda: models.detection.ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None), image(320), 17, 'detector', 'SSDLite: anchors, box decoding, per-class TopK and batched NMS (data-sized outputs)', {'list_input': True}),
    'tv-fasterrcnn_mobilenet_v3_large_320_fpn': (lambda: models.detection.fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None), image(320), 17, 'detector', 'Faster R-CNN: FPN, RPN TopK + NMS, MultiScaleRoIAlign, data-sized boxes through the box head', {'list_input': True}),
    'tv-lraspp_mobilenet_v3_large': (lambda: models.segmentation.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None), image(320), 17, 'classifier', 'LR-ASPP segmentation: two-branch head, bilinear Resize to the input', {'dict_output': True}),
    'tv-deeplabv3_mobilenet_v3_large': (lambda: models.segmentation.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None, aux_loss=False), image(320), 17, 'classifier', 'DeepLabV3: dilated convs, ASPP with global pooling branch, Resize', {'dict_output': True}),
    # Video: 3-D convolutions on a short clip.
    'tv-r2plus1d_18': (lambda: models.video.r2plus1d_18(), {'input': [1, 3, 8, 112, 112]}, 17, 'classifier', '(2+1)-D convolutions: Conv3d with 1xkxk then kx1x1 kernels, 5-D tensors', {}),
    # Optical flow: a recurrent refinement loop unrolled by tracing, grid_sample, correlation pyramid.
    'tv-raft_small': (lambda: models.optical_flow.raft_small(), {'image1': [1, 3, 128, 128], 'image2': [1, 3, 128, 128]}, 17, 'recurrent', 'RAFT (small): correlation volume by MatMul, 4 GRU refinements unrolled by tracing (num_flow_updates=4), GridSample lookups', {'num_flow_updates': 4}),
    # The same classifier at an older opset and with a dynamic batch, as many files in the wild are.
    'tv-mobilenet_v3_large-op11-dyn': (lambda: models.mobilenet_v3_large(), image(224), 11, 'classifier', 'opset 11, dynamic batch axis', {'dynamic_batch': True}),
}

class ListInput(torch.nn.Module):
    """Detection models take a list of 3-D images and return a list of dicts."""
    def __init__(self, m):
        super().__init__(); self.m = m
    def forward(self, x):
        out = self.m([x[0]])[0]
        return out['boxes'], out['scores'], out['labels']

class DictOutput(torch.nn.Module):
    def __init__(self, m):
        super().__init__(); self.m = m
    def forward(self, x):
        return self.m(x)['out']

class Flow(torch.nn.Module):
    def __init__(self, m, updates):
        super().__init__(); self.m = m; self.updates = updates
    def forward(self, a, b):
        return self.m(a, b, num_flow_updates=self.updates)[-1]

manifest = []
for name, (build, inputs, opset, kind, note, extra) in MODELS.items():
    if ONLY and name not in ONLY:
        continue
    t0 = time.time()
    m = build().eval()
    if extra.get('list_input'):
        m = ListInput(m)
    if extra.get('dict_output'):
        m = DictOutput(m)
    if 'num_flow_updates' in extra:
        m = Flow(m, extra['num_flow_updates'])
    args = tuple(torch.rand(*shape) for shape in inputs.values())
    names = list(inputs.keys())
    file = os.path.join(OUT, f'{name}.onnx')
    kw = {}
    if extra.get('dynamic_batch'):
        kw['dynamic_axes'] = {names[0]: {0: 'batch'}, 'output': {0: 'batch'}}
    outputs = ['boxes', 'scores', 'labels'] if extra.get('list_input') else ['output']
    try:
        # Under no_grad nn.MultiheadAttention takes its fused fast path, which torch.onnx cannot
        # export; with gradients on (as a user exporting a model in training setup) it goes op by op.
        with torch.set_grad_enabled(bool(extra.get('grad'))):
            torch.onnx.export(m, args, file, opset_version=opset, input_names=names, output_names=outputs, do_constant_folding=True, **kw)
    except Exception as e:  # an export torch itself cannot do is recorded, not fatal
        print(f'{name}: export failed: {type(e).__name__}: {str(e).splitlines()[0][:200]}', file=sys.stderr)
        continue
    size = os.path.getsize(file)
    entry = {'name': name, 'file': file, 'inputs': inputs, 'exporter': f'torch.onnx {torch.__version__} (torchvision {torchvision.__version__})', 'opset': opset, 'kind': kind, 'description': note, 'bytes': size}
    manifest.append(entry)
    print(f'{name}: {size / 1e6:.1f} MB in {time.time() - t0:.1f} s', file=sys.stderr)

with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
    json.dump(manifest, f, indent=1)
print(os.path.join(OUT, 'manifest.json'))
