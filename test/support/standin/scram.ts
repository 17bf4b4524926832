/** Server side of SCRAM-SHA-256 (RFC 7677), enough for the driver's saslStart/saslContinue exchange. */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

const ITERATIONS = 4096;
const hmac = (key: Buffer, text: string | Buffer) => createHmac('sha256', key).update(text).digest();
const xor = (a: Buffer, b: Buffer) => Buffer.from(a.map((x, k) => x ^ b[k]!));

function attrs(s: string): Record<string, string> {
  return Object.fromEntries(
    s.split(',').map((p) => {
      const eq = p.indexOf('=');
      return [p.slice(0, eq), p.slice(eq + 1)];
    }),
  );
}

export interface ScramConversation {
  step: 1 | 2 | 3;
  user: string;
  clientFirstBare: string;
  serverFirst: string;
  nonce: string;
  salted: Buffer;
}

export class ScramServer {
  private readonly salt = randomBytes(16);
  private readonly salted: Buffer;

  constructor(
    private readonly username: string,
    password: string,
  ) {
    // The stand-in's users have ASCII passwords, for which SASLprep is the identity.
    this.salted = pbkdf2Sync(password, this.salt, ITERATIONS, 32, 'sha256');
  }

  /** client-first → server-first; null when the user is unknown (the exchange still looks normal). */
  start(clientFirst: string): { conv: ScramConversation; reply: string } {
    const bare = clientFirst.replace(/^[nyp][^,]*,[^,]*,/, '');
    const a = attrs(bare);
    const nonce = `${a.r}${randomBytes(18).toString('base64')}`;
    const serverFirst = `r=${nonce},s=${this.salt.toString('base64')},i=${ITERATIONS}`;
    return {
      conv: {
        step: 2,
        user: (a.n ?? '').replace(/=2C/g, ',').replace(/=3D/g, '='),
        clientFirstBare: bare,
        serverFirst,
        nonce,
        salted: this.salted,
      },
      reply: serverFirst,
    };
  }

  /** client-final → server-final (v=signature), or null when the proof is wrong. */
  finish(conv: ScramConversation, clientFinal: string): string | null {
    const a = attrs(clientFinal);
    if (a.r !== conv.nonce || conv.user !== this.username || !a.p) return null;
    const withoutProof = clientFinal.slice(0, clientFinal.lastIndexOf(',p='));
    const authMessage = `${conv.clientFirstBare},${conv.serverFirst},${withoutProof}`;
    const clientKey = hmac(conv.salted, 'Client Key');
    const storedKey = createHash('sha256').update(clientKey).digest();
    const signature = hmac(storedKey, authMessage);
    const proof = Buffer.from(a.p, 'base64');
    if (proof.length !== 32 || !timingSafeEqual(xor(proof, signature), clientKey)) return null;
    const serverSignature = hmac(hmac(conv.salted, 'Server Key'), authMessage);
    return `v=${serverSignature.toString('base64')}`;
  }
}
