#!/usr/bin/env node
// Writes the JSON Schemas the profiler validates with to profiles/schemas/, for other tools and
// editors. Needs the built package (npm run build); a test checks the files are current.
import { writeFileSync } from 'node:fs';
import { boardDescriptionJsonSchema, linkDescriptionJsonSchema, profileJsonSchema, profileV1JsonSchema } from '@dnnpart/profiler';

const dir = new URL('../../../profiles/schemas/', import.meta.url);
const write = (file, schema) => writeFileSync(new URL(file, dir), `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...schema }, null, 2)}\n`);
write('profile-2.schema.json', profileJsonSchema);
// dnnpart/profile@1 is still read; its schema stays beside the current one.
write('profile-1.schema.json', profileV1JsonSchema);
write('board-description.schema.json', boardDescriptionJsonSchema);
write('link-description.schema.json', linkDescriptionJsonSchema);
