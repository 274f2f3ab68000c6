import assert from 'node:assert/strict';
import { test } from 'node:test';
import { referenceBlasNote } from './index.js';

test('the reference-BLAS note names the fix, and only for Debian netlib BLAS', () => {
  const line = (path: string) => `7f1a86992000-7f1a869a0000 r--p 00000000 fe:01 123 ${path}`;
  assert.match(referenceBlasNote(line('/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0'))!, /apt-get install -y libopenblas0-openmp/);
  assert.equal(referenceBlasNote(line('/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3')), null);
  assert.equal(referenceBlasNote(line('/usr/lib/x86_64-linux-gnu/libc.so.6')), null);
});
