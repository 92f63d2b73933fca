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
    # Detectors whose export holds scripted loops (torch.jit.script inside the trace: ONNX Loop with a
    # trip count the data decides): Mask R-CNN pastes each detection's mask into the image, Keypoint
    # R-CNN turns each detection's heatmaps into keypoints. min_size/max_size keep the internal resize
    # at the input's own 320 (the default resizes it to 800).
    'tv-maskrcnn_resnet50_fpn': (lambda: models.detection.maskrcnn_resnet50_fpn(weights=None, weights_backbone=None, min_size=320, max_size=320, box_score_thresh=0.02), image(320), 17, 'detector', 'Mask R-CNN: RPN + RoIAlign box and mask heads, the masks pasted into the image by a scripted Loop', {'list_input': ['boxes', 'scores', 'labels', 'masks']}),
    'tv-keypointrcnn_resnet50_fpn': (lambda: models.detection.keypointrcnn_resnet50_fpn(weights=None, weights_backbone=None, min_size=320, max_size=320, box_score_thresh=0.5), image(320), 17, 'detector', 'Keypoint R-CNN: keypoint head of 8 convs + ConvTranspose, heatmaps to keypoints in a scripted Loop', {'list_input': ['boxes', 'scores', 'labels', 'keypoints', 'keypoints_scores']}),
    'tv-retinanet_resnet50_fpn': (lambda: models.detection.retinanet_resnet50_fpn(weights=None, weights_backbone=None, min_size=320, max_size=320), image(320), 17, 'detector', 'RetinaNet: focal-loss heads on 5 FPN levels, per-level TopK, batched NMS', {'list_input': True}),
    'tv-fcos_resnet50_fpn': (lambda: models.detection.fcos_resnet50_fpn(weights=None, weights_backbone=None, min_size=320, max_size=320), image(320), 17, 'detector', 'FCOS: anchor-free heads with centerness, per-level TopK, batched NMS', {'list_input': True}),
    # A text encoder of torch.nn's own modules: int64 token ids through an Embedding, a learned position
    # table sliced to the sequence, a padding mask from the ids, nn.TransformerEncoder (GELU, pre-norm),
    # mean pooling over the unmasked tokens; the sequence axis dynamic as text models are exported.
    'tnn-text-encoder': (lambda: TextEncoder(), {'input_ids': [1, 64]}, 17, 'transformer', 'torch.nn TransformerEncoder over int64 token ids: Embedding Gather, position slice by the dynamic length, key padding mask from the ids, masked mean pooling', {'grad': True, 'tokens': 30522, 'dynamic_seq': True}),
    # The same classifier at an older opset and with a dynamic batch, as many files in the wild are.
    'tv-mobilenet_v3_large-op11-dyn': (lambda: models.mobilenet_v3_large(), image(224), 11, 'classifier', 'opset 11, dynamic batch axis', {'dynamic_batch': True}),
}

class ListInput(torch.nn.Module):
    """Detection models take a list of 3-D images and return a list of dicts."""
    def __init__(self, m):
        super().__init__(); self.m = m
        self.keys = ['boxes', 'scores', 'labels']
    def forward(self, x):
        out = self.m([x[0]])[0]
        return tuple(out[k] for k in self.keys)

class TextEncoder(torch.nn.Module):
    """A small BERT-like sentence encoder built from torch.nn (token 0 is padding)."""
    def __init__(self, vocab=30522, width=256, layers=4, heads=4, max_len=512):
        super().__init__()
        self.tokens = torch.nn.Embedding(vocab, width, padding_idx=0)
        self.positions = torch.nn.Parameter(torch.randn(1, max_len, width) * 0.02)
        layer = torch.nn.TransformerEncoderLayer(width, heads, 4 * width, dropout=0.1, activation='gelu', batch_first=True, norm_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = torch.nn.LayerNorm(width)
    def forward(self, input_ids):
        pad = input_ids == 0
        x = self.tokens(input_ids) + self.positions[:, : input_ids.shape[1]]
        x = self.norm(self.encoder(x, src_key_padding_mask=pad))
        keep = (~pad).unsqueeze(-1).to(x.dtype)
        return (x * keep).sum(1) / keep.sum(1).clamp(min=1.0)

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
        if isinstance(extra['list_input'], list):
            m.keys = extra['list_input']
    if extra.get('dict_output'):
        m = DictOutput(m)
    if 'num_flow_updates' in extra:
        m = Flow(m, extra['num_flow_updates'])
    # Token ids: random ids with the last quarter padding (id 0), so the padding mask means something.
    def sample(shape):
        if 'tokens' not in extra:
            return torch.rand(*shape)
        ids = torch.randint(1, extra['tokens'], shape)
        ids[..., shape[-1] - shape[-1] // 4:] = 0
        return ids
    args = tuple(sample(shape) for shape in inputs.values())
    names = list(inputs.keys())
    file = os.path.join(OUT, f'{name}.onnx')
    kw = {}
    if extra.get('dynamic_batch'):
        kw['dynamic_axes'] = {names[0]: {0: 'batch'}, 'output': {0: 'batch'}}
    if extra.get('dynamic_seq'):
        kw['dynamic_axes'] = {names[0]: {0: 'batch', 1: 'sequence'}, 'output': {0: 'batch'}}
    outputs = (m.keys if extra.get('list_input') else ['output'])
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
