// dnnpart import cnnparted: the CNNParted paper's per-layer data as a problem file.
import { CNNPARTED_DATA_DIR, importCnnparted } from '@dnnpart/cnnparted';
import { displayPath, resolvePath, writeOutput, type CommandContext, type CommandOutput } from './context.js';

export interface ImportOptions {
  /** The paper's results directory; default: the copy bundled with @dnnpart/cnnparted. */
  readonly dir?: string;
  readonly net: string;
  readonly platforms?: readonly string[];
  readonly order?: 'fixed' | 'free';
  readonly output: string;
}

/** `dnnpart import cnnparted`: the paper's data as a problem file. */
export async function importPaper(opts: ImportOptions, ctx: CommandContext): Promise<CommandOutput<{ file: string; nodes: number; boards: string[]; links: number }>> {
  const dir = opts.dir === undefined ? CNNPARTED_DATA_DIR : resolvePath(ctx, opts.dir);
  const problem = await importCnnparted(dir, {
    net: opts.net,
    ...(opts.platforms && opts.platforms.length > 0 ? { platforms: [...opts.platforms] } : {}),
    ...(opts.order ? { order: opts.order } : {}),
  });
  const file = resolvePath(ctx, opts.output);
  await writeOutput(file, opts.output, JSON.stringify(problem, null, 2) + '\n');
  const data = { file, nodes: problem.nodes.length, boards: problem.boards.map((b) => b.id), links: problem.links.length };
  return {
    data,
    text: `wrote ${displayPath(ctx, file)}: ${opts.net}, ${data.nodes} layers, boards ${data.boards.join(', ')} (${problem.boardOrder} order, input on ${problem.inputBoard}), ${data.links} links`,
  };
}
