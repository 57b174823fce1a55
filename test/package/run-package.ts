/**
 * Runs packageDerivative in a process of its own (so a test can give it its own umask and working directory) and
 * prints the result as JSON. Argument: a JSON object with the PackageOptions fields plus `configFile`.
 */
import { packageDerivative, type PackageOptions } from '../../src/package/package.ts';
import type { PackageInput } from '../../src/package/stage.ts';

const args = JSON.parse(process.argv[2] ?? '{}') as Omit<PackageOptions, 'inputs'> & { inputs: string[] };
const inputs: PackageInput[] = args.inputs.map((source) => ({ source }));
const result = await packageDerivative({ ...args, inputs });
process.stdout.write(`${JSON.stringify({ path: result.path, sha256: result.sha256, version: result.version })}\n`);
