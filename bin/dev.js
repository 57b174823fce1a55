#!/usr/bin/env -S node --import tsx
// The `llama` CLI straight from the TypeScript sources (no build): oclif finds commands/*.ts through tsconfig.
import './check-node.js';

const { redactDebugOutput } = await import('../src/cli/debug-redaction.ts');
redactDebugOutput(process.argv.slice(2));
const { execute } = await import('@oclif/core');
await execute({ development: true, dir: import.meta.url });
