import { describe, expect, it } from 'vitest';
import { IngestBatch, TokenRequest } from '@icarus/shared';
import { AppError } from './errors';

describe('AppError.fromZod', () => {
  it('names an unknown field whose key is the empty string as "", not with an empty path', () => {
    const parsed = TokenRequest.safeParse({ '': '', assertion: 'x'.repeat(40) });
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    const error = AppError.fromZod(parsed.error);
    expect(error.fields).toEqual([{ path: '""', problem: 'unknown field' }]);
    expect(error.message).toBe('Invalid body: "": unknown field');
  });

  it('names a nested empty key by its whole path', () => {
    const parsed = IngestBatch.safeParse({ batchId: '019a0000-0000-7000-8000-000000000001', spans: [], status: { '': 1 } });
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    expect(AppError.fromZod(parsed.error).fields?.map((f) => f.path)).toContain('status.""');
  });
});
