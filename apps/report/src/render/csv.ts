// RFC 4180 CSV: CRLF line ends, fields quoted when they hold a comma, quote, CR or LF.

/** One CSV field: null and undefined are empty, numbers are written in full precision. */
export function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const s = String(value);
  // Leading or trailing spaces are quoted too: some readers trim unquoted fields.
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A whole CSV document: a header line, then one line per row, each ended by CRLF. */
export function toCsv<T>(columns: readonly (keyof T & string)[], rows: readonly T[]): string {
  const lines = [columns.map((c) => csvField(c)).join(',')];
  for (const row of rows) {
    lines.push(columns.map((c) => csvField(row[c] as string | number | null | undefined)).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** Parse RFC 4180 text back into records (used to check our own output). */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i += 1; continue; }
      field += c;
      i += 1;
      continue;
    }
    if (c === '"' && field === '') { quoted = true; i += 1; continue; }
    if (c === ',') { record.push(field); field = ''; i += 1; continue; }
    if (c === '\r' && text[i + 1] === '\n') { record.push(field); records.push(record); record = []; field = ''; i += 2; continue; }
    if (c === '\n') { record.push(field); records.push(record); record = []; field = ''; i += 1; continue; }
    field += c;
    i += 1;
  }
  if (field !== '' || record.length > 0) { record.push(field); records.push(record); }
  return records;
}
