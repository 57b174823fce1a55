#!/usr/bin/env -S node --import tsx
// The `llama` CLI straight from the TypeScript sources (no build): oclif finds commands/*.ts through tsconfig.
import { execute } from '@oclif/core';

await execute({ development: true, dir: import.meta.url });
