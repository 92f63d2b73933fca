import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(`./${p}/src/index.ts`, import.meta.url));

// Tests import workspace packages from source, so no build is needed to run them;
// the CLI (bin/dnnpart.js) runs the compiled dist, which `npm test` builds first.
export default defineConfig({
  resolve: {
    alias: {
      '@dnnpart/onnx-graph': src('packages/onnx-graph'),
      '@dnnpart/zoo': src('packages/zoo'),
      '@dnnpart/profiler': src('packages/profiler'),
      '@dnnpart/solver': src('packages/solver'),
      '@dnnpart/runtime': src('packages/runtime'),
      '@dnnpart/cnnparted': src('packages/cnnparted'),
      '@dnnpart/report': src('apps/report'),
      '@dnnpart/accuracy': src('packages/accuracy'),
    },
  },
  test: {
    include: ['packages/*/{src,test}/**/*.test.ts', 'apps/*/{src,test}/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    pool: 'forks',
    globalSetup: ['./vitest.tmpdir.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
