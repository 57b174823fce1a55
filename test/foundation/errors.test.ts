import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AccessError,
  ComplianceError,
  EnvironmentError,
  EXIT_CODES,
  IntegrityError,
  LlamaError,
  NetworkError,
  UsageError,
  toLlamaError,
} from '../../src/errors.ts';
import { redactSecrets, registerSecret } from '../../src/redact.ts';

test('each error class carries the exit code of the ARCHITECTURE table', () => {
  const cases: Array<[LlamaError, number]> = [
    [new UsageError('X', 'm'), 2],
    [new ComplianceError('X', 'm'), 3],
    [new IntegrityError('X', 'm'), 4],
    [new AccessError('X', 'm'), 5],
    [new NetworkError('X', 'm'), 6],
    [new EnvironmentError('X', 'm'), 7],
  ];
  for (const [error, code] of cases) {
    assert.equal(error.exitCode, code, error.name);
    assert.ok(error instanceof LlamaError);
    assert.ok(error instanceof Error);
  }
  assert.deepEqual(Object.values(EXIT_CODES), [0, 1, 2, 3, 4, 5, 6, 7]);
});

test('toJSON gives code, message, hint and details', () => {
  const error = new IntegrityError('HASH_MISMATCH', 'model.safetensors: sha256 mismatch', {
    hint: 'Run llama pull again.',
    details: { expected: 'aa', actual: 'bb' },
  });
  assert.deepEqual(JSON.parse(JSON.stringify(error)), {
    code: 'HASH_MISMATCH',
    message: 'model.safetensors: sha256 mismatch',
    hint: 'Run llama pull again.',
    exitCode: 4,
    details: { expected: 'aa', actual: 'bb' },
  });
});

test('unknown failures become exit 1 with their message kept', () => {
  const wrapped = toLlamaError(new RangeError('boom'));
  assert.equal(wrapped.exitCode, 1);
  assert.equal(wrapped.code, 'UNEXPECTED');
  assert.equal(wrapped.message, 'boom');
  assert.match(wrapped.hint, /DEBUG=llama/);
  const same = new UsageError('A', 'b');
  assert.equal(toLlamaError(same), same);
  assert.equal(toLlamaError('plain string').message, 'plain string');
});

test('tokens never survive into messages or hints', () => {
  const token = 'hf_abcdefGHIJKL0123456789';
  const error = new AccessError('DENIED', `request with ${token} failed`, { hint: `Authorization: Bearer ${token}` });
  assert.ok(!error.message.includes(token));
  assert.ok(!error.hint.includes(token));
  assert.equal(redactSecrets(`url?token=${token}&x=1`), 'url?token=***&x=1');
  registerSecret('custom-secret-value');
  assert.equal(redactSecrets('it was custom-secret-value here'), 'it was *** here');
});
