// The argv parser and the help text, straight from the command table.
import { describe, expect, it } from 'vitest';
import { commands, globalOptions, main, parseArgs, listOption, UsageError } from '@dnnpart/report';
import { run } from './_run.js';

const specs = commands.find((c) => c.name === 'solve')!.options;
const split = commands.find((c) => c.name === 'split')!.options;

describe('parseArgs', () => {
  it.each([
    [['--problem', 'p.json'], { problem: 'p.json', 'time-limit': 60 }],
    [['--problem=p.json', '--time-limit=5'], { problem: 'p.json', 'time-limit': 5 }],
    [['--objective', 'energy', '--pareto', 'throughput,energy'], { objective: 'energy', pareto: 'throughput,energy', 'time-limit': 60 }],
    [['--json', '-q'], { json: true, quiet: true, 'time-limit': 60 }],
    [['--no-json'], { json: false, 'time-limit': 60 }],
  ])('%j', (argv, options) => {
    expect(parseArgs(argv, [...globalOptions, ...specs], 'solve')).toEqual({ positionals: [], options });
  });

  it('collects repeatable options in order and positionals anywhere', () => {
    const a = parseArgs(['m.onnx', '--after', 'a,b', '-o', 'out', '--after=c', '--input', 'x=1x3', '--input', 'y=2'], split, 'split');
    expect(a.positionals).toEqual(['m.onnx']);
    expect(a.options).toEqual({ after: ['a,b', 'c'], output: 'out', input: ['x=1x3', 'y=2'] });
    expect(listOption(a.options.after)).toEqual(['a', 'b', 'c']);
  });

  it('takes everything after -- as positionals', () => {
    expect(parseArgs(['--', '--weird.onnx'], split, 'split').positionals).toEqual(['--weird.onnx']);
  });

  it.each([
    [['--bogus'], 'CLI_UNKNOWN_FLAG', 'unknown option --bogus for solve (see dnnpart solve --help)'],
    [['--bogus=1'], 'CLI_UNKNOWN_FLAG', 'unknown option --bogus for solve (see dnnpart solve --help)'],
    [['-x'], 'CLI_UNKNOWN_FLAG', 'unknown option -x for solve (see dnnpart solve --help)'],
    [['--problem'], 'CLI_MISSING_VALUE', '--problem needs a value <p.json>'],
    [['--problem', '--json'], 'CLI_MISSING_VALUE', '--problem needs a value <p.json>'],
    [['--time-limit', 'soon'], 'CLI_BAD_VALUE', '--time-limit needs a non-negative number, got "soon"'],
    [['--time-limit', '-3'], 'CLI_BAD_VALUE', '--time-limit needs a non-negative number, got "-3"'],
    [['--objective', 'speed'], 'CLI_BAD_VALUE', '--objective must be one of throughput, latency, energy, got "speed"'],
    [['--problem', 'a', '--problem', 'b'], 'CLI_BAD_VALUE', '--problem given twice; it takes one value'],
    [['--json=maybe'], 'CLI_BAD_VALUE', '--json takes no value or true/false, got "maybe"'],
  ])('%j → %s', (argv, code, message) => {
    expect(() => parseArgs(argv, [...globalOptions, ...specs], 'solve')).toThrow(expect.objectContaining({ code, message }));
    expect(() => parseArgs(argv, [...globalOptions, ...specs], 'solve')).toThrow(UsageError);
  });
});

describe('help', () => {
  it('dnnpart --help lists every command with one line each', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const c of commands) expect(r.stdout).toMatch(new RegExp(`^  ${c.name} +${c.summary.replace(/[()]/g, '.')}$`, 'm'));
    expect(r.stdout).toContain('Exit codes: 0 done, 2 bad usage or bad input, 1 unexpected failure');
  });

  it.each(commands.map((c) => c.name))('dnnpart %s --help shows its options and an example', async (name) => {
    const r = await run([...name.split(' '), '--help']);
    const spec = commands.find((c) => c.name === name)!;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(new RegExp(`^Usage: dnnpart ${name}`));
    for (const o of spec.options) expect(r.stdout).toContain(`--${o.name}`);
    expect(r.stdout).toContain(`Example:\n  ${spec.example}\n`);
  });

  it('no command: help on stderr, exit 2', async () => {
    const r = await run([]);
    expect([r.code, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toContain('Usage: dnnpart <command>');
  });

  it('a group alone lists its commands; --version prints the version', async () => {
    expect(await run(['zoo', '--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('zoo export') });
    expect(await run(['zoo'])).toMatchObject({ code: 2, stderr: expect.stringContaining('zoo list') });
    expect(await run(['--version'])).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
  });

  it.each([
    [['frobnicate'], 'dnnpart: unknown command "frobnicate" (see dnnpart --help)'],
    [['zoo', 'eat'], 'dnnpart: unknown command "zoo eat" (zoo has: list, export)'],
    [['zoo', 'list', '--bogus'], 'dnnpart: unknown option --bogus for zoo list (see dnnpart zoo list --help)'],
    [['inspect'], 'dnnpart: inspect needs <model> (an ONNX file); see dnnpart inspect --help'],
    [['zoo', 'list', 'extra'], 'dnnpart: zoo list takes no arguments, got extra "extra"'],
    [['zoo', 'export', 'resnet18'], 'dnnpart: zoo export needs --output (see dnnpart zoo export --help)'],
    [['split', 'm.onnx', '-o', 'x'], 'dnnpart: split needs --after <node>[,<node>...] or --plan <plan.json> (see dnnpart split --help)'],
    [['solve'], 'dnnpart: give --problem <p.json> or --system <system.yaml>'],
    [['solve', '--problem', 'a.json', '--system', 'b.yaml'], 'dnnpart: give --problem or --system, not both'],
    [['solve', '--problem', 'a.json', '--pareto', 'throughput'], 'dnnpart: --pareto takes two different objectives of throughput, latency, energy, e.g. throughput,energy; got "throughput"'],
    [['report', '-o', 'x'], 'dnnpart: give at least one --system <system.yaml> or --problem <p.json>'],
    [['start', '--model', 'a.onnx', '--net', 'resnet18'], 'dnnpart: give --model or --net, not both'],
  ])('bad usage %j → exit 2, one line', async (argv, line) => {
    const r = await run(argv);
    expect(r).toEqual({ code: 2, stdout: '', stderr: line + '\n' });
  });
});

describe('unexpected failures', () => {
  // A failure that is nobody's input mistake: the output stream breaks.
  const broken = async (env: Record<string, string>) => {
    let stderr = '';
    const code = await main(['zoo', 'list'], {
      stdout: { write: () => { throw new Error('stdout closed'); } },
      stderr: { write: (s: string) => (stderr += s) },
      cwd: process.cwd(),
      env,
      signal: new AbortController().signal,
    });
    return { code, stderr };
  };

  it('exit 1 with one line and a hint, no stack', async () => {
    expect(await broken({})).toEqual({ code: 1, stderr: 'dnnpart: unexpected failure: stdout closed\n(set DNNPART_DEBUG=1 to see the stack; please report it)\n' });
  });

  it('DNNPART_DEBUG=1 shows the stack', async () => {
    const r = await broken({ DNNPART_DEBUG: '1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^dnnpart: unexpected failure: stdout closed\nError: stdout closed\n +at /);
  });
});
