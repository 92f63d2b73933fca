// The chosen partition as a pipeline drawing: stage boxes and transfer arrows left to right,
// wrapping into rows, each with a bar of its time against the slowest; the bottleneck in red.
import type { PlanMetrics, PlanTransfer } from '@dnnpart/solver';
import { escapeHtml, formatBytes, formatMj, formatMs } from './format.js';
import { indexRanges } from './plan-rows.js';

interface Item {
  readonly kind: 'stage' | 'transfer';
  readonly title: string;
  readonly lines: readonly string[];
  readonly ms: number;
  readonly bottleneck: boolean;
}

const STAGE_W = 180;
const TRANSFER_W = 140;
const GAP = 18;
const ROW_H = 118;
const MAX_W = 1110;
const PAD = 12;

/** The pipeline items of a plan, in order: optional input transfer, then stage, transfer, stage... */
export function pipelineItems(plan: PlanMetrics, layerIndex: ReadonlyMap<string, number>, inputBoard: string): Item[] {
  const items: Item[] = [];
  const transferItem = (t: PlanTransfer, input: boolean): Item => ({
    kind: 'transfer',
    title: input ? `input from ${t.from}\n→ ${t.to}` : `${t.from}\n→ ${t.to}`,
    lines: [formatBytes(t.bytes), formatMs(t.ms)],
    ms: t.ms,
    bottleneck: plan.bottleneck === `${t.from}->${t.to}`,
  });
  // Boards differ between stages, so a transfer is found by its two ends.
  const find = (from: string, to: string) => plan.transfers.find((t) => t.from === from && t.to === to);
  const first = plan.stages[0]?.board;
  const input = first !== undefined && first !== inputBoard ? find(inputBoard, first) : undefined;
  if (input !== undefined) items.push(transferItem(input, true));
  plan.stages.forEach((s, i) => {
    const idx = s.nodes.map((n) => layerIndex.get(n)).filter((x): x is number => x !== undefined);
    const layers = idx.length === s.nodes.length && idx.length > 0
      ? `layers ${indexRanges(idx)} (${s.nodes.length})`
      : `${s.nodes.length} nodes`;
    items.push({
      kind: 'stage',
      title: s.board,
      lines: [layers, `${formatMs(s.computeMs)} · ${formatMj(s.energyMj)}`, `memory ${formatBytes(s.memoryBytes)}`],
      ms: s.computeMs,
      bottleneck: plan.bottleneck === s.board,
    });
    const next = plan.stages[i + 1];
    const t = next === undefined ? undefined : find(s.board, next.board);
    if (t !== undefined) items.push(transferItem(t, false));
  });
  return items;
}

/** An inline SVG of the plan's pipeline; `label` names it for screen readers. */
export function pipelineSvg(plan: PlanMetrics, layerIndex: ReadonlyMap<string, number>, inputBoard: string, label: string): string {
  const items = pipelineItems(plan, layerIndex, inputBoard);
  const maxMs = Math.max(...items.map((i) => i.ms), 1e-9);
  // Lay items out left to right, wrapping when the row is full.
  const placed: { item: Item; x: number; row: number; w: number }[] = [];
  // Narrow the boxes (down to 78 %) before wrapping, so four boards still fit on one row.
  const boxes = items.reduce((a, i) => a + (i.kind === 'stage' ? STAGE_W : TRANSFER_W), 0);
  const room = MAX_W - 2 * PAD - (items.length - 1) * GAP;
  const scale = Math.min(1, Math.max(0.78, room / boxes));
  let x = PAD;
  let row = 0;
  for (const item of items) {
    const w = Math.round((item.kind === 'stage' ? STAGE_W : TRANSFER_W) * scale);
    if (x + w > MAX_W - PAD && x > PAD) {
      row += 1;
      x = PAD;
    }
    placed.push({ item, x, row, w });
    x += w + GAP;
  }
  const width = Math.min(MAX_W, Math.max(...placed.map((p) => p.x + p.w)) + PAD);
  const height = (row + 1) * ROW_H + PAD;
  const parts: string[] = [];
  placed.forEach((p, k) => {
    const y = PAD + p.row * ROW_H;
    const h = ROW_H - 34;
    const red = '#b5515b';
    const { item } = p;
    const cls = `pipe-${item.kind}${item.bottleneck ? ' pipe-bottleneck' : ''}`;
    parts.push(`<g class="${cls}">`);
    if (item.kind === 'stage') {
      parts.push(`<rect x="${p.x}" y="${y}" width="${p.w}" height="${h}" rx="6" fill="#f4f6f9" stroke="${item.bottleneck ? red : '#7d8793'}" stroke-width="${item.bottleneck ? 2.5 : 1.2}"/>`);
    } else {
      const my = y + h / 2;
      parts.push(`<line x1="${p.x}" y1="${my}" x2="${p.x + p.w - 8}" y2="${my}" stroke="${item.bottleneck ? red : '#7d8793'}" stroke-width="${item.bottleneck ? 2.5 : 1.5}"/>`);
      parts.push(`<path d="M${p.x + p.w - 9},${my - 5} L${p.x + p.w},${my} L${p.x + p.w - 9},${my + 5} Z" fill="${item.bottleneck ? red : '#7d8793'}"/>`);
    }
    const cx = p.x + p.w / 2;
    item.title.split('\n').forEach((t, j) => {
      const ty = item.kind === 'stage' ? y + 20 : y + 10 + j * 14;
      parts.push(`<text x="${cx}" y="${ty}" text-anchor="middle" font-weight="600" font-size="${item.kind === 'stage' ? 14 : 11.5}" fill="#222">${escapeHtml(t)}</text>`);
    });
    item.lines.forEach((line, j) => {
      const ly = item.kind === 'stage' ? y + 39 + j * 16 : y + h / 2 + 16 + j * 14;
      parts.push(`<text x="${cx}" y="${ly}" text-anchor="middle" font-size="12" fill="#333">${escapeHtml(line)}</text>`);
    });
    // Time bar: how close this item is to the slowest one, which sets the frame rate.
    const barY = y + h + 8;
    const barW = Math.max(1, (p.w - 8) * (item.ms / maxMs));
    parts.push(`<rect x="${p.x + 4}" y="${barY}" width="${p.w - 8}" height="7" rx="2" fill="#eceef1"/>`);
    parts.push(`<rect x="${p.x + 4}" y="${barY}" width="${barW.toFixed(1)}" height="7" rx="2" fill="${item.bottleneck ? red : '#9aa5b1'}"/>`);
    if (item.bottleneck) {
      parts.push(`<text x="${cx}" y="${barY + 20}" text-anchor="middle" font-size="11.5" font-weight="600" fill="${red}">bottleneck · ${escapeHtml(formatMs(item.ms))}</text>`);
    }
    parts.push('</g>');
    // Join items on the same row with a short connector.
    const next = placed[k + 1];
    if (next !== undefined && next.row === p.row && item.kind === 'stage' && next.item.kind === 'stage') {
      parts.push(`<line x1="${p.x + p.w}" y1="${y + h / 2}" x2="${next.x}" y2="${y + h / 2}" stroke="#7d8793"/>`);
    }
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" class="pipeline" role="img" aria-label="${escapeHtml(label)}" data-chart="pipeline" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif">${parts.join('')}</svg>`;
}
