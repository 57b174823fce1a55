/**
 * Our bundles validate against the four OMS v1.0 JSON Schemas (Draft 2020-12: bundle → envelope, decoded payload →
 * statement → predicate), as OMS §3.1 asks of conformance suites. The validator is checked on the OMS vectors first,
 * so a schema setup that accepted anything would fail here.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Ajv2020Module from 'ajv/dist/2020.js';
import { signModel } from '../../src/sign/sign.ts';
import { KEYS, makeKeyPair, makeModel, NO_SHARED, OMS, removeDir, tempDir, CURVES } from './helpers.ts';

type Validate = (bundle: unknown) => string[];

async function omsValidator(): Promise<Validate> {
  const Ajv2020 = Ajv2020Module.default;
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const schemas = join(OMS, 'schemas', 'v1.0');
  for (const name of ['predicate', 'statement', 'envelope', 'bundle']) ajv.addSchema(JSON.parse(await readFile(join(schemas, `${name}.schema.json`), 'utf8')));
  const bundleSchema = ajv.getSchema('https://model_signing/bundle/v1.0/schema')!;
  const statementSchema = ajv.getSchema('https://model_signing/statement/v1.0/schema')!;
  return (bundle) => {
    const errors: string[] = [];
    if (!bundleSchema(bundle)) errors.push(...(bundleSchema.errors ?? []).map((e) => `bundle${e.instancePath} ${e.message}`));
    const payload = (bundle as { dsseEnvelope?: { payload?: string } } | null)?.dsseEnvelope?.payload;
    if (typeof payload === 'string') {
      let statement: unknown;
      try {
        statement = JSON.parse(Buffer.from(payload, 'base64').toString('utf8'));
      } catch {
        errors.push('payload is not JSON');
      }
      if (statement !== undefined && !statementSchema(statement)) errors.push(...(statementSchema.errors ?? []).map((e) => `statement${e.instancePath} ${e.message}`));
    }
    return errors;
  };
}

describe('OMS JSON Schemas', { skip: NO_SHARED }, () => {
  let validate: Validate;
  let work: string;
  before(async () => {
    validate = await omsValidator();
    work = await tempDir();
  });
  after(async () => removeDir(work));

  test('the validator accepts the OMS valid vectors and refuses every invalid one', async () => {
    const vectors = join(OMS, 'test-vectors', 'v1.0');
    for (const folder of ['valid', 'invalid', 'invalid-payload']) {
      for (const name of (await readdir(join(vectors, folder))).filter((n) => n.endsWith('.json'))) {
        const text = await readFile(join(vectors, folder, name), 'utf8');
        let value: unknown = null;
        try {
          value = JSON.parse(text);
        } catch {
          // empty.bundle.json
        }
        const errors = validate(value);
        if (folder === 'valid') assert.deepEqual(errors, [], `${folder}/${name}`);
        else assert.notDeepEqual(errors, [], `${folder}/${name} passed the schemas`);
      }
    }
  });

  for (const { curve, nodeName } of CURVES) {
    test(`a ${curve} key signature validates against all four schemas`, async () => {
      const dir = await makeModel(join(work, `m-${curve}`));
      const keys = await makeKeyPair(work, nodeName, curve);
      const signed = await signModel({ model: dir, keyPath: keys.privatePath });
      assert.deepEqual(validate(JSON.parse(await readFile(signed.signaturePath, 'utf8'))), []);
    });
  }

  test('a certificate-method signature validates against all four schemas', async () => {
    const dir = await makeModel(join(work, 'm-cert'));
    const signed = await signModel({ model: dir, keyPath: join(KEYS, 'signing-key.pem'), certChainPath: join(KEYS, 'signing-key-cert.pem') });
    assert.deepEqual(validate(JSON.parse(await readFile(signed.signaturePath, 'utf8'))), []);
  });
});
