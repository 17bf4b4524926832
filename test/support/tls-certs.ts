/**
 * A throw-away certificate authority, a server certificate for 127.0.0.1 and
 * a client certificate, made with the openssl command line (Node cannot issue
 * X.509 certificates itself). For TLS tests only.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCerts {
  caFile: string;
  serverCert: string;
  serverKey: string;
  ca: string;
  /** Client certificate and key in one PEM file, as the driver's tlsCertificateKeyFile wants. */
  clientPemFile: string;
  /** The same with the key encrypted (AES-256) under `clientKeyPassword` (tlsCertificateKeyFilePassword). */
  clientEncryptedPemFile: string;
  clientKeyPassword: string;
}

export function makeTestCerts(dir: string): TestCerts {
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=mbm-test-ca',
  );
  /** A key and a certificate signed by the test CA, with the given X.509 extensions. */
  const issue = (name: string, subject: string, extensions: string) => {
    writeFileSync(f(`${name}.cnf`), extensions);
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      f(`${name}.key`),
      '-out',
      f(`${name}.csr`),
      '-subj',
      subject,
    );
    ssl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-out',
      f(`${name}.crt`),
      '-days',
      '2',
      '-extfile',
      f(`${name}.cnf`),
    );
  };
  issue(
    'server',
    '/CN=127.0.0.1',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  issue('client', '/CN=backup-client', 'extendedKeyUsage=clientAuth\n');
  writeFileSync(
    f('client.pem'),
    Buffer.concat([readFileSync(f('client.crt')), readFileSync(f('client.key'))]),
  );
  const clientKeyPassword = 'client-key-Passw0rd';
  ssl(
    'pkey',
    '-in',
    f('client.key'),
    '-aes256',
    '-passout',
    `pass:${clientKeyPassword}`,
    '-out',
    f('client.enc.key'),
  );
  writeFileSync(
    f('client.enc.pem'),
    Buffer.concat([readFileSync(f('client.crt')), readFileSync(f('client.enc.key'))]),
  );
  return {
    caFile: f('ca.pem'),
    ca: readFileSync(f('ca.pem'), 'utf8'),
    serverCert: readFileSync(f('server.crt'), 'utf8'),
    serverKey: readFileSync(f('server.key'), 'utf8'),
    clientPemFile: f('client.pem'),
    clientEncryptedPemFile: f('client.enc.pem'),
    clientKeyPassword,
  };
}
