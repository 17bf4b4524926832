/**
 * createUser / dropUser as MongoDB stores users: one document per user in
 * admin.system.users (`_id: "<db>.<user>"`, userId, user, db, credentials,
 * roles) with SCRAM-SHA-256 credentials derived as RFC 7677 says (salted
 * password by PBKDF2, storedKey = SHA-256(HMAC(salted, "Client Key")),
 * serverKey = HMAC(salted, "Server Key")), 15,000 iterations and a 28-byte
 * salt as mongod uses, logged in the oplog like any insert. Only SCRAM-SHA-256
 * is modelled (tests pass `mechanisms: ['SCRAM-SHA-256']`, which makes a real
 * server store only that one too), and logging in as such a user is not: the
 * stand-in authenticates its one configured user.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { UUID, type Document } from 'bson';
import { deleteStored, insertOne, type Handler } from './commands-crud.js';
import { E, MongoError } from './errors.js';

const ITERATIONS = 15000;

function scramSha256(password: string): Document {
  const salt = randomBytes(28);
  // ASCII passwords only: SASLprep is then the identity.
  const salted = pbkdf2Sync(password, salt, ITERATIONS, 32, 'sha256');
  const hmac = (text: string) => createHmac('sha256', salted).update(text).digest();
  return {
    iterationCount: ITERATIONS,
    salt: salt.toString('base64'),
    storedKey: createHash('sha256').update(hmac('Client Key')).digest().toString('base64'),
    serverKey: hmac('Server Key').toString('base64'),
  };
}

export const userCommands: Record<string, Handler> = {
  createuser(ctx) {
    const user = String(ctx.cmd.createUser);
    const pwd = ctx.cmd.pwd;
    if (typeof pwd !== 'string') throw E.badValue("Must provide a 'pwd' field for all user documents");
    const mechanisms = (ctx.cmd.mechanisms as string[] | undefined) ?? ['SCRAM-SHA-256'];
    if (mechanisms.some((m) => m !== 'SCRAM-SHA-256'))
      throw E.badValue('The stand-in models SCRAM-SHA-256 credentials only');
    const users = ctx.ensureColl('system.users', 'admin');
    const _id = `${ctx.db}.${user}`;
    if (users.all().some((d) => d.js._id === _id))
      throw new MongoError(51003, 'Location51003', `User "${user}@${ctx.db}" already exists`);
    const roles = ((ctx.cmd.roles as (string | Document)[] | undefined) ?? []).map((r) =>
      typeof r === 'string' ? { role: r, db: ctx.db } : { role: r.role, db: r.db },
    );
    insertOne(ctx, users, {
      _id,
      userId: new UUID(),
      user,
      db: ctx.db,
      credentials: { 'SCRAM-SHA-256': scramSha256(pwd) },
      roles,
    });
    return { ok: 1 };
  },

  dropuser(ctx) {
    const user = String(ctx.cmd.dropUser);
    const users = ctx.ensureColl('system.users', 'admin');
    const found = users.all().find((d) => d.js._id === `${ctx.db}.${user}`);
    if (!found) throw new MongoError(11, 'UserNotFound', `User '${user}@${ctx.db}' not found`);
    deleteStored(ctx, users, found);
    return { ok: 1 };
  },
};
