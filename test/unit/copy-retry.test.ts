import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isRetryable, retryDelay } from '../../src/copy/retry.js';
import { AuthError, DigestMismatchError, NotFoundError, RegistryError } from '../../src/errors.js';

test('network errors, 429 and 500-504 are retried; refusals and bad content are not', () => {
  assert.equal(isRetryable(new RegistryError('x', 429)), true);
  for (const s of [500, 502, 503, 504]) assert.equal(isRetryable(new RegistryError('x', s)), true, String(s));
  assert.equal(isRetryable(new RegistryError('x', 505)), false);
  assert.equal(isRetryable(new RegistryError('x', 400)), false);
  assert.equal(isRetryable(new NotFoundError('x', 404)), false);
  assert.equal(isRetryable(new AuthError('x', 401)), false);
  assert.equal(isRetryable(new DigestMismatchError('x')), false);
  assert.equal(isRetryable(Object.assign(new Error('reset'), { code: 'ECONNRESET' })), true);
  assert.equal(isRetryable(Object.assign(new Error('x'), { cause: { code: 'UND_ERR_SOCKET' } })), true);
  assert.equal(isRetryable(Object.assign(new Error('t'), { name: 'TimeoutError' })), false);
});

test('backoff is exponential unless a delay is set, and Retry-After wins when longer', () => {
  const policy = { retryTimes: 5, retryDelayMs: 0 };
  assert.deepEqual([1, 2, 3, 4].map((a) => retryDelay(policy, a, new Error())), [1000, 2000, 4000, 8000]);
  assert.equal(retryDelay({ retryTimes: 5, retryDelayMs: 250 }, 3, new Error()), 250);
  assert.equal(retryDelay(policy, 1, new RegistryError('slow down', 429, 7)), 7000);
});
