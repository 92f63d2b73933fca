# `dnnpart verify` on ONNX's backend test models (Debian's libonnx-testdata) after start-sweep.py:
# for each model the start job planned (its problem.json), a two-stage plan cut at the middle of the
# problem's node order (this machine, then the Jetson Orin Nano as described), timed here back to back
# and as a pipeline of stage workers (5 runs, 5 frames: this is about the path, not the timings).
# Prints and writes (JSON lines) each run's exit code, whether stderr held a stack trace, its first
# line. Needs the CLI built and the start sweep's directory.
# Usage: /usr/bin/python3 bench/onnx-testdata/verify-sweep.py [start-sweep dir]   (about 20 min)
import json, os, subprocess, sys, time

D = '/usr/share/libonnx-testdata/data'
CLI = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'apps', 'report', 'bin', 'dnnpart.js')
work = sys.argv[1] if len(sys.argv) > 1 else '/tmp/dnnpart-onnx-testdata'
out = open(os.path.join(work, 'verify.jsonl'), 'w')
starts = {}
for line in open(os.path.join(work, 'start.jsonl')):
    r = json.loads(line)
    starts[r['name']] = r
done = 0
for name, r in sorted(starts.items()):
    group, model = name.split('/', 1)
    d = os.path.join(work, 'out', f'{group}-{model}')
    problem = os.path.join(d, 'problem.json')
    if r['code'] != 0 or not os.path.exists(problem):
        continue
    ids = [n['id'] for n in json.load(open(problem))['nodes']]
    if len(ids) < 2:
        continue
    k = len(ids) // 2
    plan = os.path.join(d, 'half.plan.json')
    json.dump({'stages': [{'board': 'this-machine', 'nodes': ids[:k]}, {'board': 'orin-nano', 'nodes': ids[k:]}]}, open(plan, 'w'))
    t0 = time.time()
    p = subprocess.run(['node', CLI, 'verify', f'{D}/{group}/{model}/model.onnx', '--plan', plan, '--problem', problem,
                        '--runs', '5', '--warmup', '2', '--frames', '5', '--no-memory', '-q', *r['args']], capture_output=True, text=True, timeout=600)
    rec = {'name': name, 'code': p.returncode, 'stack': '\n    at ' in p.stderr, 'err': p.stderr.strip().split('\n')[0][:300] if p.stderr.strip() else '', 's': round(time.time() - t0, 1)}
    out.write(json.dumps(rec) + '\n'); out.flush()
    done += 1
    print(rec['code'], name, rec['err'][:150], flush=True)
print(done, 'verified', flush=True)
