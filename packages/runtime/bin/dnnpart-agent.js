#!/usr/bin/env node
// The board agent on its own: runs the compiled package (npm run build, or an installed tarball).
import { agentMain } from '../dist/index.js';

process.exitCode = await agentMain(process.argv.slice(2));
