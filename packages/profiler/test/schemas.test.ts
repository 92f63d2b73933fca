// profiles/schemas/*.json are the schemas the code validates with, for editors and other tools.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { boardDescriptionJsonSchema, linkDescriptionJsonSchema, profileJsonSchema, profileV1JsonSchema } from '@dnnpart/profiler';

const DIR = new URL('../../../profiles/schemas/', import.meta.url);

describe('profiles/schemas', () => {
  it.each([
    ['profile-2.schema.json', profileJsonSchema],
    ['profile-1.schema.json', profileV1JsonSchema],
    ['board-description.schema.json', boardDescriptionJsonSchema],
    ['link-description.schema.json', linkDescriptionJsonSchema],
  ])('%s is current (else: npm run build && node packages/profiler/scripts/write-schemas.mjs)', async (file, schema) => {
    const json = JSON.parse(await readFile(new URL(file, DIR), 'utf8'));
    expect(json).toEqual({ $schema: 'http://json-schema.org/draft-07/schema#', ...structuredClone(schema) });
  });
});
