// A small argv parser driven by the option table: --flag value, --flag=value, -o value,
// repeatable options, `--` ends options. Anything it does not know is a UsageError.
import type { OptionSpec } from './commands.js';
import { UsageError } from './errors.js';

export type OptionValue = string | number | boolean | readonly string[] | readonly number[];

export interface ParsedArgs {
  readonly positionals: readonly string[];
  /** Keyed by long name; defaults filled in; repeatable options are arrays. */
  readonly options: Readonly<Record<string, OptionValue | undefined>>;
}

/** Parse `argv` against `specs` (defaults applied); `context` names the command in messages. */
export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[], context: string): ParsedArgs {
  const byName = new Map<string, OptionSpec>();
  for (const s of specs) {
    byName.set(`--${s.name}`, s);
    if (s.alias) byName.set(`-${s.alias}`, s);
    if (s.type === 'boolean') byName.set(`--no-${s.name}`, s);
  }
  const positionals: string[] = [];
  const options: Record<string, OptionValue | undefined> = {};
  const seen = new Set<string>();

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-' || /^-\d/.test(arg)) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const spec = byName.get(flag);
    if (!spec) throw new UsageError('CLI_UNKNOWN_FLAG', `unknown option ${flag} for ${context} (see dnnpart ${context} --help)`);

    if (spec.type === 'boolean') {
      if (eq >= 0) {
        const v = arg.slice(eq + 1);
        if (v !== 'true' && v !== 'false') throw new UsageError('CLI_BAD_VALUE', `${flag} takes no value or true/false, got "${v}"`);
        options[spec.name] = v === 'true';
      } else {
        options[spec.name] = !flag.startsWith('--no-');
      }
      continue;
    }

    let raw: string;
    if (eq >= 0) raw = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('-') && next !== '-' && !/^-\d/.test(next))) {
        throw new UsageError('CLI_MISSING_VALUE', `${flag} needs a value ${spec.placeholder ?? ''}`.trimEnd());
      }
      raw = next;
      i++;
    }
    const value = convert(spec, flag, raw);
    if (spec.repeatable) {
      const prev = (options[spec.name] as (string | number)[] | undefined) ?? [];
      options[spec.name] = [...prev, value] as OptionValue;
    } else {
      if (seen.has(spec.name)) throw new UsageError('CLI_BAD_VALUE', `--${spec.name} given twice; it takes one value`);
      options[spec.name] = value;
    }
    seen.add(spec.name);
  }

  for (const s of specs) if (options[s.name] === undefined && s.default !== undefined) options[s.name] = s.default;
  return { positionals, options };
}

function convert(spec: OptionSpec, flag: string, raw: string): string | number {
  if (spec.type === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError('CLI_BAD_VALUE', `${flag} needs a non-negative number, got "${raw}"`);
    return n;
  }
  if (spec.choices && !spec.choices.includes(raw)) {
    throw new UsageError('CLI_BAD_VALUE', `${flag} must be one of ${spec.choices.join(', ')}, got "${raw}"`);
  }
  return raw;
}

/** Split comma-separated values of a (possibly repeated) option into one flat list. */
export function listOption(value: OptionValue | undefined): string[] {
  if (value === undefined || typeof value === 'boolean') return [];
  const items = Array.isArray(value) ? value : [value];
  return items.flatMap((v) => String(v).split(',')).map((s) => s.trim()).filter((s) => s !== '');
}
