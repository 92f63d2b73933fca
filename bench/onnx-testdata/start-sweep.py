# `dnnpart start --model` (profile here, join with the default system's described boards, solve,
# report) on ONNX's backend test models (Debian's libonnx-testdata) of two nodes or more and on every
# PyTorch-converted, PyTorch-operator and simple one: the test's inputs given with --input (small
# integer ones as values). Prints and writes (JSON lines) each run's exit code, whether stderr held a
# stack trace, its first line and time. Needs the CLI built and /usr/bin/python3 with python3-onnx.
# Usage: /usr/bin/python3 bench/onnx-testdata/start-sweep.py [out-dir]   (about 20 min)
import json, os, subprocess, sys, time
import onnx
from onnx import numpy_helper

D = '/usr/share/libonnx-testdata/data'
CLI = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'apps', 'report', 'bin', 'dnnpart.js')
work = sys.argv[1] if len(sys.argv) > 1 else '/tmp/dnnpart-onnx-testdata'
os.makedirs(work, exist_ok=True)
out = open(os.path.join(work, 'start.jsonl'), 'w')
sel = []
for group in ['node', 'pytorch-converted', 'pytorch-operator', 'simple']:
    for name in sorted(os.listdir(f'{D}/{group}')):
        path = f'{D}/{group}/{name}/model.onnx'
        if os.path.exists(path) and (group != 'node' or len(onnx.load(path, load_external_data=False).graph.node) >= 2):
            sel.append({'group': group, 'name': name})
print(len(sel), 'models', flush=True)
for r in sel:
    d = f"{D}/{r['group']}/{r['name']}"
    m = onnx.load(f'{d}/model.onnx', load_external_data=False)
    inits = {i.name for i in m.graph.initializer}
    ins = [i for i in m.graph.input if i.name not in inits]
    args = []
    for k, i in enumerate(ins):
        f = f'{d}/test_data_set_0/input_{k}.pb'
        if not os.path.exists(f) or i.type.WhichOneof('value') != 'tensor_type':
            continue
        t = onnx.TensorProto(); t.ParseFromString(open(f, 'rb').read())
        try:
            a = numpy_helper.to_array(t)
        except Exception:
            continue
        shape = 'x'.join(str(s) for s in a.shape)
        if a.dtype.kind in 'iub' and a.size <= 16:
            args += ['--input', f"{i.name}={shape}:{','.join(str(int(v)) for v in a.flatten())}"]
        else:
            args += ['--input', f'{i.name}={shape}']
    o = os.path.join(work, 'out', f"{r['group']}-{r['name']}")
    t0 = time.time()
    p = subprocess.run(['node', CLI, 'start', '--model', f'{d}/model.onnx', '-o', o, '--time-limit', '5', '-q', *args], capture_output=True, text=True, timeout=600)
    rec = {'name': f"{r['group']}/{r['name']}", 'code': p.returncode, 'stack': '\n    at ' in p.stderr, 'err': p.stderr.strip().split('\n')[0][:300] if p.stderr.strip() else '', 's': round(time.time() - t0, 1), 'args': args}
    out.write(json.dumps(rec) + '\n'); out.flush()
    print(rec['code'], rec['name'], rec['err'][:150], flush=True)
