// Progress on stderr: a bar redrawn in place on a terminal, a few plain lines otherwise
// (CI logs), nothing with --quiet.
import type { Output } from './io.js';

export interface Progress {
  /** Report `done` of `total` steps of the phase `label`; `detail` shows on a terminal only. */
  update(label: string, done: number, total: number, detail?: string): void;
  /** A line of its own (a phase finished, a file written). */
  note(line: string): void;
  /** Clear the bar. */
  end(): void;
}

/** A progress display on `out`, or a silent one when `quiet`. */
export function createProgress(out: Output, quiet: boolean): Progress {
  if (quiet) return { update() {}, note() {}, end() {} };
  const tty = out.isTTY === true;
  let barShown = false;
  let lastLabel = '';
  let lastQuarter = -1;
  const clear = () => {
    if (barShown) out.write('\r\x1b[2K');
    barShown = false;
  };
  return {
    update(label, done, total, detail) {
      const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
      if (tty) {
        const width = Math.max(10, Math.min(30, (out.columns ?? 80) - label.length - 20));
        const filled = Math.round(frac * width);
        let line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
        if (detail) line += ` ${detail}`;
        // Never wrap: a wrapped line cannot be redrawn in place.
        const max = (out.columns ?? 80) - 1;
        out.write(`\r\x1b[2K${line.length > max ? line.slice(0, max - 1) + '…' : line}`);
        barShown = true;
        return;
      }
      // Non-TTY (logs): the first step of a phase, then a line each time it passes a quarter.
      if (done === 0) return;
      const quarter = Math.floor(frac * 4);
      if (label !== lastLabel || quarter > lastQuarter) {
        out.write(`${label}: ${done}/${total}\n`);
        lastLabel = label;
        lastQuarter = quarter;
      }
    },
    note(line) {
      clear();
      out.write(line + '\n');
      lastLabel = '';
      lastQuarter = -1;
    },
    end() {
      clear();
    },
  };
}
