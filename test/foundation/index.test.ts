import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as llama from '../../src/index.ts';

test('the library exports every operation the commands run', () => {
  for (const name of ['pull', 'verify', 'quantize', 'packageDerivative', 'runLicenseCheck', 'renderNotice', 'identifyText', 'loadConfig', 'describeConfig'] as const) {
    assert.equal(typeof llama[name], 'function', name);
  }
  assert.equal(llama.EXIT_CODES.integrity, 4);
});
