// An external power meter's log: CSV rows of timestamp and watts, aligned by time to the runs.
import { readFile } from 'node:fs/promises';
import { ProfileError } from './errors.js';
import { energyFromSamples, type Sensor } from './sensor.js';

export interface CsvMeterOptions {
  /** Added to the log's timestamps to align the meter's clock with this machine's (ms). */
  readonly offsetMs?: number;
}

/** Parse a meter log: a timestamp (ISO text, epoch seconds or epoch ms) and watts per row; header optional. */
export function parseMeterCsv(text: string, file = '(meter log)'): { t: number; v: number }[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const split = (l: string) => l.split(/[,;\t]/).map((c) => c.trim().replace(/^"|"$/g, ''));
  let timeCol = 0;
  let wattCol = 1;
  const head = split(lines[0] ?? '');
  if (head.length && parseTime(head[0]!) === null) {
    // A header: find the columns by name.
    timeCol = head.findIndex((h) => /time|date|^t$|^ts$/i.test(h));
    wattCol = head.findIndex((h) => /watt|power|^w$|^p$/i.test(h));
    if (timeCol < 0 || wattCol < 0) throw new ProfileError('PROFILE_SENSOR', `${file}: header ${JSON.stringify(head.join(','))} has no timestamp and watts columns`);
    lines.shift();
  }
  const rows: { t: number; v: number }[] = [];
  for (const [i, l] of lines.entries()) {
    const cells = split(l);
    const t = parseTime(cells[timeCol] ?? '');
    const v = Number(cells[wattCol]);
    if (t === null || !Number.isFinite(v)) throw new ProfileError('PROFILE_SENSOR', `${file}: row ${i + 1} ${JSON.stringify(l)} is not timestamp,watts`);
    rows.push({ t, v });
  }
  rows.sort((a, b) => a.t - b.t);
  return rows;
}

function parseTime(s: string): number | null {
  if (/^[-+]?\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    // Epoch seconds until 2286 are below 1e10; anything larger is milliseconds.
    return n < 1e10 ? n * 1000 : n;
  }
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}

/** A Sensor over a meter's CSV log file; the log is (re)read at stop, since the meter writes it while the runs go. */
export function csvMeterSensor(path: string, options: CsvMeterOptions = {}): Sensor {
  let rows: { t: number; v: number }[] = [];
  const load = async () => {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw new ProfileError('PROFILE_SENSOR', `csv-meter: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
    }
    rows = parseMeterCsv(text, path).map((r) => ({ t: r.t + (options.offsetMs ?? 0), v: r.v }));
  };
  return {
    name: 'csv-meter',
    description: `external meter log ${path}${options.offsetMs ? ` (offset ${options.offsetMs} ms)` : ''}`,
    start: load,
    stop: load,
    energyJ: (fromMs, toMs) => energyFromSamples(`csv-meter ${path}`, 'power', rows, fromMs, toMs),
  };
}
