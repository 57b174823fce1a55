#!/usr/bin/env node
// The `llama` (also `llama-dist`) CLI, from the compiled sources in dist/ (built by `npm run build`).
// The Node.js check runs first; everything else is imported after it, so an old Node.js gets one line, not a stack.
import './check-node.js';
import module from 'node:module';

// Compiled code of oclif and its dependencies is cached on disk (Node ≥ 22.1), which roughly halves start-up.
module.enableCompileCache?.();
import { fileURLToPath } from 'node:url';

const { redactDebugOutput } = await import('../dist/src/cli/debug-redaction.js');
redactDebugOutput(process.argv.slice(2));
const { loadOptionsFor } = await import('../dist/src/cli/invocation.js');
const { execute } = await import('@oclif/core');
const root = fileURLToPath(new URL('..', import.meta.url));
await execute({ dir: import.meta.url, loadOptions: loadOptionsFor(root, process.argv[1]) });
