/**
 * The single entry point every transport uses: validate the input against
 * the contract, run the handler, validate the output, and turn any failure
 * into a typed error. Transports never call handlers directly.
 */
import type { z } from 'zod';
import { commands, isCommandName } from './contract.js';
import { ApiError, toApiError, type ApiResult } from '../errors.js';
import { handlers } from './handlers/index.js';
import type { CallContext, Handler } from './handlers/types.js';
import type { Services } from '../services.js';

export function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

export async function dispatch(
  services: Services,
  name: string,
  rawInput: unknown,
  call: CallContext = { client: 'local' },
): Promise<ApiResult<unknown>> {
  try {
    if (typeof name !== 'string' || !isCommandName(name)) {
      throw new ApiError('NOT_FOUND', `Unknown command: ${String(name)}.`);
    }
    const def = commands[name];
    if (services.readOnly && !(def as { readOnly?: boolean }).readOnly)
      throw new ApiError('CONFLICT', `${name} writes, and this engine was opened read-only.`);
    const parsed = def.input.safeParse(rawInput ?? {});
    if (!parsed.success) {
      const issues = issuesOf(parsed.error);
      throw new ApiError(
        'INVALID_INPUT',
        `Invalid input for ${name}: ${issues.map((i) => `${i.path || '(input)'}: ${i.message}`).join('; ')}`,
        { issues },
      );
    }
    await services.stores.recover(); // a damaged catalog set aside at open is rebuilt before any answer
    const handler = handlers[name] as Handler<typeof name>;
    const output = await handler(services, parsed.data as never, call);
    // The output is checked too, so the contract cannot drift from the code.
    const checked = def.output.safeParse(output);
    if (!checked.success) {
      console.error(`[dispatch] ${name} returned output that breaks the contract`, checked.error);
      throw new ApiError('INTERNAL', `The engine produced an invalid result for ${name}.`);
    }
    return { ok: true, result: checked.data };
  } catch (err) {
    const apiErr = toApiError(err);
    if (apiErr !== err) console.error(`[dispatch] ${name} failed`, err);
    return { ok: false, error: apiErr.toJSON() };
  }
}
