/**
 * The driver options a connection gets: our timeouts unless the connection string names its own
 * (the driver lets the options object win over the URI, so ours would silently replace the DBA's).
 */
import { describe, expect, it } from 'vitest';
import { clientOptions, LONG_WORK_MONITOR_TIMEOUT_MS } from '../../engine/mongo/connect.js';
import type { ConnectionConfig } from '../../engine/mongo/connection-config.js';

const config = (uri: string) => ({ uri }) as ConnectionConfig;

describe('clientOptions', () => {
  it('sets the caller’s timeouts when the connection string names none', () => {
    const o = clientOptions(config('mongodb://h1:27017/?replicaSet=rs0'), null, 10_000, {
      monitorTimeoutMs: LONG_WORK_MONITOR_TIMEOUT_MS,
    });
    expect(o.serverSelectionTimeoutMS).toBe(10_000);
    expect(o.connectTimeoutMS).toBe(LONG_WORK_MONITOR_TIMEOUT_MS);
  });

  it('keeps the timeouts the connection string names, whatever their case', () => {
    const o = clientOptions(
      config('mongodb://h1/?serverSelectionTimeoutMS=500&CONNECTTIMEOUTMS=700'),
      null,
      10_000,
    );
    expect(o).not.toHaveProperty('serverSelectionTimeoutMS');
    expect(o).not.toHaveProperty('connectTimeoutMS');
  });

  it('keeps one named and sets the other', () => {
    const o = clientOptions(
      config('mongodb+srv://cluster.example.net/?serverselectiontimeoutms=250'),
      null,
      5000,
    );
    expect(o).not.toHaveProperty('serverSelectionTimeoutMS');
    expect(o.connectTimeoutMS).toBe(5000);
  });

  it('leaves a malformed string to the driver (our timeouts set, no throw here)', () => {
    const o = clientOptions(config('not a uri'), null, 5000);
    expect(o.serverSelectionTimeoutMS).toBe(5000);
  });
});
