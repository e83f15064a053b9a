import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { NotImplementedError } from '@postbote/errors';
import type { Logger } from '@postbote/logging';
import { clientStream, serverStream, unary } from './handlers';
import type { ServiceRegistration } from './server';

/**
 * A service that is part of the contract but not built yet: it is served (so health,
 * reflection and clients see it) and every method answers UNIMPLEMENTED with `reason`.
 */
export function unimplementedService(name: string, definition: ServiceDefinition, reason: string, logger: Logger): ServiceRegistration {
  const implementation: UntypedServiceImplementation = {};
  for (const [method, def] of Object.entries(definition)) {
    const fail = async (): Promise<never> => {
      throw new NotImplementedError(`${name}/${method}: ${reason}`);
    };
    if (def.requestStream && !def.responseStream) implementation[method] = clientStream(logger, method, fail);
    else if (def.responseStream) implementation[method] = serverStream(logger, method, fail);
    else implementation[method] = unary(logger, method, fail);
  }
  return { name, definition, implementation };
}
