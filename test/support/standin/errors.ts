/** Server errors with MongoDB's real codes and code names. */
export class MongoError extends Error {
  constructor(
    readonly code: number,
    readonly codeName: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const E = {
  badValue: (m: string) => new MongoError(2, 'BadValue', m),
  unauthorized: (m: string) => new MongoError(13, 'Unauthorized', m),
  authFailed: () => new MongoError(18, 'AuthenticationFailed', 'Authentication failed.'),
  nsNotFound: (m: string) => new MongoError(26, 'NamespaceNotFound', m),
  indexNotFound: (m: string) => new MongoError(27, 'IndexNotFound', m),
  cursorNotFound: (id: string) => new MongoError(43, 'CursorNotFound', `cursor id ${id} not found`),
  nsExists: (m: string) => new MongoError(48, 'NamespaceExists', m),
  maxTimeExpired: () => new MongoError(50, 'MaxTimeMSExpired', 'operation exceeded time limit'),
  commandNotFound: (name: string) => new MongoError(59, 'CommandNotFound', `no such command: '${name}'`),
  invalidOptions: (m: string) => new MongoError(72, 'InvalidOptions', m),
  invalidNamespace: (m: string) => new MongoError(73, 'InvalidNamespace', m),
  indexKeySpecsConflict: (m: string) => new MongoError(86, 'IndexKeySpecsConflict', m),
  noSuchTransaction: (m: string) =>
    new MongoError(251, 'NoSuchTransaction', m, { errorLabels: ['TransientTransactionError'] }),
  cappedPositionLost: (m: string) => new MongoError(136, 'CappedPositionLost', m),
  duplicateKey: (m: string, keyPattern: object, keyValue: object) =>
    new MongoError(11000, 'DuplicateKey', m, { keyPattern, keyValue }),
  commandNotSupportedOnView: (m: string) => new MongoError(166, 'CommandNotSupportedOnView', m),
  notWritablePrimary: () => new MongoError(10107, 'NotWritablePrimary', 'not primary'),
  notPrimaryNoSecondaryOk: () =>
    new MongoError(13435, 'NotPrimaryNoSecondaryOk', 'not primary and secondaryOk=false'),
};
