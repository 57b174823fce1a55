#!/usr/bin/env node
// The `llama` CLI, from the compiled sources in dist/ (built by `npm run build`).
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
