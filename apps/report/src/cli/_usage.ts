// Help text, generated from the command table.
import { commands, globalOptions, type CommandSpec, type OptionSpec } from './commands.js';

/** `dnnpart --help`: every command with one line each. */
export function mainHelp(version: string): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `dnnpart ${version} — hardware-aware DNN partitioning across embedded boards`,
    '',
    'Usage: dnnpart <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options for every command:',
    ...formatOptions([...globalOptions, { name: 'version', type: 'boolean', help: 'print the version' }]),
    '',
    'Exit codes: 0 done, 2 bad usage or bad input, 1 unexpected failure (DNNPART_DEBUG=1 shows the stack), 130 interrupted.',
    'Run `dnnpart <command> --help` for its options and an example.',
  ].join('\n') + '\n';
}

/** `dnnpart <command> --help`: usage, options with defaults, and an example. */
export function commandHelp(c: CommandSpec): string {
  const pos = c.positionals.map((p) => (p.required ? `<${p.name}>` : `[${p.name}]`)).join(' ');
  const lines = [`Usage: dnnpart ${c.name}${pos ? ' ' + pos : ''} [options]`, '', c.summary, ''];
  if (c.positionals.length > 0) {
    lines.push('Arguments:');
    for (const p of c.positionals) lines.push(`  ${p.name.padEnd(28)} ${p.help}`);
    lines.push('');
  }
  if (c.options.length > 0) {
    lines.push('Options:', ...formatOptions(c.options), '');
  }
  lines.push('Common options:', ...formatOptions(globalOptions), '');
  lines.push('Example:', `  ${c.example}`);
  return lines.join('\n') + '\n';
}

/** The commands under a group word (`zoo`), for `dnnpart zoo` alone. */
export function groupHelp(group: string): string {
  const members = commands.filter((c) => c.name.startsWith(group + ' '));
  const width = Math.max(...members.map((c) => c.name.length));
  return [`Usage: dnnpart ${group} <command> [options]`, '', 'Commands:', ...members.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`)].join('\n') + '\n';
}

function formatOptions(options: readonly OptionSpec[]): string[] {
  return options.map((o) => {
    const flag = `${o.alias ? `-${o.alias}, ` : ''}--${o.name}${o.type === 'boolean' ? '' : ' ' + (o.placeholder ?? '<value>')}`;
    const extra = [
      o.choices ? `one of ${o.choices.join('|')}` : '',
      o.default !== undefined ? `default ${o.default}` : '',
      o.repeatable ? 'repeatable' : '',
    ].filter(Boolean);
    const help = o.help + (extra.length > 0 ? ` (${extra.join('; ')})` : '');
    return flag.length > 26 ? `  ${flag}\n  ${' '.repeat(28)} ${help}` : `  ${flag.padEnd(28)} ${help}`;
  });
}
