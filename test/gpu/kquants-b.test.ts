/**
 * Q4_K and Q5_K on the GPU against the CPU quantizers, byte for byte (see compare.ts; split from quantize.test.ts so the
 * k-quant pipelines compile in parallel test processes).
 */
import { defineTypeTests, TYPE_GROUPS, useGpu } from './compare.ts';

useGpu();
defineTypeTests(TYPE_GROUPS.kquantsB);
