// A small table model rendered both to HTML and to Markdown, so report.md carries
// exactly the tables of report.html.
import { escapeHtml, escapeMarkdownCell } from './format.js';

export interface Cell {
  /** Display text; "\n" separates lines. */
  readonly text: string;
  /** Right-aligned, tabular figures. */
  readonly num?: boolean;
  /** Machine name of the column (data-col), for tests and scripts reading the page. */
  readonly col?: string;
  /** The raw value behind the text (data-value). */
  readonly value?: number | string | null;
  /** Extra class on the HTML cell. */
  readonly cls?: string;
  /** Hover text in HTML. */
  readonly title?: string;
  /** Columns spanned (HTML); Markdown pads with empty cells. */
  readonly span?: number;
}

export interface Row {
  readonly cells: readonly Cell[];
  readonly cls?: string;
  readonly attrs?: Readonly<Record<string, string | number>>;
}

export interface Table {
  readonly cls?: string;
  readonly attrs?: Readonly<Record<string, string>>;
  readonly columns: readonly { readonly label: string; readonly num?: boolean; readonly title?: string }[];
  readonly rows: readonly Row[];
}

/** A plain cell. */
export function cell(text: string, extra: Omit<Cell, 'text'> = {}): Cell {
  return { text, ...extra };
}

function attrs(a: Readonly<Record<string, string | number>> | undefined): string {
  if (a === undefined) return '';
  return Object.entries(a).map(([k, v]) => ` ${k}="${escapeHtml(v)}"`).join('');
}

function cellHtml(c: Cell, tag: 'td' | 'th'): string {
  const classes = [c.num ? 'num' : '', c.cls ?? ''].filter((x) => x !== '').join(' ');
  const a: Record<string, string | number> = {};
  if (classes !== '') a.class = classes;
  if (c.col !== undefined) a['data-col'] = c.col;
  if (c.value !== undefined) a['data-value'] = c.value === null ? '' : String(c.value);
  if (c.title !== undefined) a.title = c.title;
  if (c.span !== undefined && c.span > 1) a.colspan = c.span;
  const body = c.text.split('\n').map((l) => escapeHtml(l)).join('<br>');
  return `<${tag}${attrs(a)}>${body}</${tag}>`;
}

/** The table as an HTML <table> (wrapped so wide tables scroll on small screens). */
export function tableHtml(t: Table): string {
  const head = t.columns.map((c) => cellHtml({ text: c.label, num: c.num, title: c.title }, 'th')).join('');
  const body = t.rows.map((r) => {
    const a: Record<string, string | number> = { ...(r.attrs ?? {}) };
    if (r.cls !== undefined) a.class = r.cls;
    return `<tr${attrs(a)}>${r.cells.map((c) => cellHtml(c, 'td')).join('')}</tr>`;
  }).join('\n');
  const ta: Record<string, string> = { ...(t.attrs ?? {}) };
  if (t.cls !== undefined) ta.class = t.cls;
  return `<div class="tablewrap"><table${attrs(ta)}>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>`;
}

/** The table in GitHub-flavoured Markdown: numbers right-aligned, lines joined by <br>. */
export function tableMarkdown(t: Table): string {
  const md = (text: string) => text.split('\n').map((l) => escapeMarkdownCell(l)).join('<br>');
  const lines = [
    `| ${t.columns.map((c) => md(c.label)).join(' | ')} |`,
    `|${t.columns.map((c) => (c.num ? '---:' : '---')).join('|')}|`,
  ];
  for (const r of t.rows) {
    const cells: string[] = [];
    for (const c of r.cells) {
      cells.push(md(c.text));
      for (let i = 1; i < (c.span ?? 1); i += 1) cells.push('');
    }
    while (cells.length < t.columns.length) cells.push('');
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
