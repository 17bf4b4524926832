/**
 * A tiny authoritative DNS server on 127.0.0.1 (UDP) answering SRV and TXT
 * queries, so that `mongodb+srv://` connection strings are resolved by the
 * driver's real DNS path (c-ares via dns.setServers) in tests. Unknown
 * names get NXDOMAIN; a known name without a record of the asked type gets
 * an empty answer (ENODATA), as real servers do.
 */
import { createSocket } from 'node:dgram';

export interface SrvRecord {
  priority?: number;
  weight?: number;
  port: number;
  target: string;
}
export interface DnsZone {
  srv?: Record<string, SrvRecord[]>;
  txt?: Record<string, string[]>;
}
export interface DnsServer {
  /** "127.0.0.1:PORT", for dns.setServers. */
  address: string;
  queries: { name: string; type: number }[];
  stop(): Promise<void>;
}

const TYPE_SRV = 33;
const TYPE_TXT = 16;

function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.');
  return Buffer.concat([
    ...parts.map((p) => Buffer.concat([Buffer.from([Buffer.byteLength(p)]), Buffer.from(p)])),
    Buffer.from([0]),
  ]);
}

function readQuestion(msg: Buffer): { name: string; type: number; end: number } {
  const labels: string[] = [];
  let off = 12;
  while (msg[off]! !== 0) {
    const len = msg[off]!;
    labels.push(msg.toString('ascii', off + 1, off + 1 + len));
    off += 1 + len;
  }
  off += 1;
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(off), end: off + 4 };
}

function answer(type: number, rdata: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0); // name: pointer to the question
  head.writeUInt16BE(type, 2);
  head.writeUInt16BE(1, 4); // class IN
  head.writeUInt32BE(60, 6); // TTL
  head.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([head, rdata]);
}

export async function startDnsServer(zone: DnsZone): Promise<DnsServer> {
  const socket = createSocket('udp4');
  const queries: DnsServer['queries'] = [];
  const known = new Set(
    [...Object.keys(zone.srv ?? {}), ...Object.keys(zone.txt ?? {})].map((n) => n.toLowerCase()),
  );
  socket.on('message', (msg, peer) => {
    const q = readQuestion(msg);
    queries.push({ name: q.name, type: q.type });
    const answers: Buffer[] = [];
    if (q.type === TYPE_SRV)
      for (const r of zone.srv?.[q.name] ?? []) {
        const fixed = Buffer.alloc(6);
        fixed.writeUInt16BE(r.priority ?? 0, 0);
        fixed.writeUInt16BE(r.weight ?? 0, 2);
        fixed.writeUInt16BE(r.port, 4);
        answers.push(answer(TYPE_SRV, Buffer.concat([fixed, encodeName(r.target)])));
      }
    if (q.type === TYPE_TXT)
      for (const text of zone.txt?.[q.name] ?? [])
        answers.push(
          answer(TYPE_TXT, Buffer.concat([Buffer.from([Buffer.byteLength(text)]), Buffer.from(text)])),
        );
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2); // id
    header.writeUInt16BE(0x8400 | (known.has(q.name) ? 0 : 3), 2); // response, authoritative, NXDOMAIN if unknown
    header.writeUInt16BE(1, 4); // one question
    header.writeUInt16BE(answers.length, 6);
    socket.send(Buffer.concat([header, msg.subarray(12, q.end), ...answers]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    queries,
    stop: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
