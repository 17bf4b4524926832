/**
 * takeBufferedRaw reads the rest of a raw cursor's batch from the reply's
 * bytes: the same documents, byte for byte and in order, as the driver's
 * readBufferedDocuments gives, with the installed driver taking that way (a
 * driver upgrade that changes its internals shows here, not as a slower
 * capture), and the cursor goes on with its next batch afterwards.
 */
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { takeBufferedRaw } from '../../engine/mongo/raw-batch.js';
import { startStandin, type Standin } from '../support/standin/server.js';

let standin: Standin | null = null;
let client: MongoClient | null = null;
afterEach(async () => {
  await client?.close();
  await standin?.stop();
  client = null;
  standin = null;
});

const hex = (docs: Uint8Array[]) => docs.map((d) => Buffer.from(d).toString('hex'));

describe('raw cursor batches', () => {
  it('takes the buffered documents of an oplog batch as the driver would, and the cursor goes on', async () => {
    standin = await startStandin({ noopIntervalMs: 0 });
    client = new MongoClient(standin.uri);
    const coll = client
      .db('shop')
      .collection<{ _id: number; name: string; tags: string[]; n: number }>('items');
    await coll.insertMany(
      Array.from({ length: 300 }, (_, k) => ({ _id: k, name: `item ${k}`, tags: ['a', 'é'], n: k * 1.5 })),
    );
    const oplog = client.db('local').collection('oplog.rs');
    const open = () => oplog.find({ ns: 'shop.items' }, { raw: true, batchSize: 120 });

    // The driver's way, for comparison.
    const expected: Uint8Array[] = [];
    const reference = open();
    for (;;) {
      const first = (await reference.tryNext()) as unknown as Uint8Array | null;
      if (!first) break;
      expected.push(first, ...(reference.readBufferedDocuments() as unknown as Uint8Array[]));
    }
    await reference.close();
    expect(expected).toHaveLength(300);

    const cursor = open();
    const taken: Uint8Array[] = [];
    let batches = 0;
    for (;;) {
      const first = (await cursor.tryNext()) as unknown as Uint8Array | null;
      if (!first) break;
      const rest = takeBufferedRaw(cursor);
      expect(rest).not.toBeNull(); // the installed driver is read the fast way
      expect(cursor.bufferedCount()).toBe(0);
      taken.push(first, ...rest!);
      batches++;
    }
    await cursor.close();
    expect(batches).toBe(3); // 120 + 120 + 60: each batch taken once, the next one fetched after it
    expect(hex(taken)).toEqual(hex(expected));
    expect(takeBufferedRaw(cursor)).toEqual([]); // nothing buffered: nothing taken
  });
});
