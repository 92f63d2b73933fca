// The tool's version, from apps/report/package.json (one place to bump).
import { readFileSync } from 'node:fs';

/** The version in apps/report/package.json. */
export const version: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
