/**
 * How a restore names what the target did: a write that failed because the connection went (the
 * driver wraps even that in a MongoBulkWriteError, with no write error) is the target being away
 * (UNREACHABLE), as a failed connection is; a batch the server refused as a whole, or a write
 * concern it could not meet, is the target failing the restore (UNAVAILABLE, with its code).
 */
import { MongoBulkWriteError, MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../engine/errors.js';
import { toTargetError } from '../../engine/restore/restore-to-mongo.js';

/** A bulk write error as the driver builds one (the result as far as the error reads it). */
function bulkError(message: string, code?: number, writeConcernError?: object): MongoBulkWriteError {
  const result = {
    insertedCount: 0,
    matchedCount: 0,
    modifiedCount: 0,
    deletedCount: 0,
    upsertedCount: 0,
    upsertedIds: {},
    insertedIds: {},
    getWriteConcernError: () => writeConcernError,
  };
  type Args = ConstructorParameters<typeof MongoBulkWriteError>;
  // The driver passes the network error's code through, undefined for a reset connection.
  return new MongoBulkWriteError(
    { message, code, writeErrors: [] } as unknown as Args[0],
    result as unknown as Args[1],
  );
}

describe('target errors during a restore', () => {
  it.each([
    'read ECONNRESET',
    'connect ECONNREFUSED 127.0.0.1:27017',
    'connection 4 to 127.0.0.1:27017 closed',
    'Server selection timed out after 3000 ms',
  ])('a batch lost with the connection (%s) is UNREACHABLE', (message) => {
    const e = toTargetError(bulkError(message)) as ApiError;
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ code: 'UNREACHABLE', details: { reason: 'connection-lost' } });
    expect(e.message).toContain(message);
  });

  it('a batch the server refused as a whole stays UNAVAILABLE with its code', () => {
    expect(toTargetError(bulkError('No space left on device', 14031))).toMatchObject({
      code: 'UNAVAILABLE',
      details: { code: 14031 },
    });
  });

  it('a write concern not met is no lost connection, even when it timed out', () => {
    expect(toTargetError(bulkError('waiting for replication timed out', 64, { code: 64 }))).toMatchObject({
      code: 'UNAVAILABLE',
    });
  });

  it('a server refusal that is not a bulk write keeps its own words', () => {
    const refused = new MongoServerError({ message: 'not primary', code: 10107 });
    expect(toTargetError(refused)).toMatchObject({ code: 'CONFLICT' });
  });
});
