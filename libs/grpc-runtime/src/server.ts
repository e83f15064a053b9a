import { createServer, type Server as NetServer } from 'node:net';
import { Server, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { HealthImplementation } from 'grpc-health-check';
import { isOpen } from '@postbote/auth';
import { ValidationError } from '@postbote/errors';
import type { Logger } from '@postbote/logging';
import type { Gate } from './gate';
import { DEFAULT_CONNECTION_LIMITS, guardConnections } from './connection-guard';
import { gated, UndecodableRequest } from './handlers';
import { STREAM_RECHECK_MS, type StreamWatch } from './stream-watch';
import { RequestTypes, invalidUtf8Path, isInvalidUtf8Error, strictReader } from './utf8-guard';
import { systemClock } from '@postbote/backoff';
import { serverCredentials, type Transport } from './transport';
import { onReadinessChange } from '@postbote/metrics';

export interface ServiceRegistration {
  /** Fully qualified name, e.g. "postbote.v1.ConnectorService" (health checks key on it). */
  readonly name: string;
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
}

export interface GrpcServerOptions {
  /** host:port; port 0 picks a free one (tests). */
  readonly address: string;
  readonly services: readonly ServiceRegistration[];
  readonly logger: Logger;
  /** FileDescriptorSet (base64) describing the services, for server reflection. */
  readonly descriptorSetBase64: string;
  /** TLS or plaintext (plaintext only on loopback unless explicitly allowed). */
  readonly transport: Transport;
  /** Authenticates and authorizes every call except health checks. */
  readonly gate: Gate;
  /** How open streams are re-checked (default: every 5 s on the system clock). */
  readonly streamWatch?: StreamWatch;
}

export interface RunningGrpcServer {
  /** The bound host:port. */
  readonly address: string;
  readonly health: HealthImplementation;
  /** Marks every service NOT_SERVING, lets calls finish for `graceMs`, then cuts the rest. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts a gRPC server with the standard health service and server reflection. Every
 * service added — ours and reflection alike — answers only after the gate accepted the
 * caller; only health is open.
 */
export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const credentials = serverCredentials(options.transport, options.address);
  // Loaded here, not at the top: a client (the CLI) that imports this lib never pays for them.
  const { loadFileDescriptorSetFromBuffer, loadSync } = require('@grpc/proto-loader') as typeof import('@grpc/proto-loader');
  const { ReflectionService } = require('@grpc/reflection') as typeof import('@grpc/reflection');
  const { HealthImplementation, protoPath: healthProtoPath } = require('grpc-health-check') as typeof import('grpc-health-check');
  const server = new GatedServer(options.gate, options.logger, options.streamWatch ?? { clock: systemClock, recheckMs: STREAM_RECHECK_MS }, {
    'grpc.max_receive_message_length': 8 * 1024 * 1024,
    // A client that stops answering pings is gone (or never was): its connection closes.
    'grpc.keepalive_time_ms': 120_000,
    'grpc.keepalive_timeout_ms': 20_000,
  });
  const types = new RequestTypes(options.descriptorSetBase64);
  for (const s of options.services) server.addService(guardDecoding(s.definition, types), s.implementation);

  const statuses = Object.fromEntries([['', 'SERVING' as const], ...options.services.map((s) => [s.name, 'SERVING' as const])]);
  const health = new HealthImplementation(statuses);
  health.addToServer(server);
  // Reflection announces exactly the services this server answers — its own plus health —
  // though the descriptors describe every service of the product, so tools like grpcurl
  // neither miss one nor try one that another port serves.
  const pkg = { ...loadFileDescriptorSetFromBuffer(Buffer.from(options.descriptorSetBase64, 'base64')), ...loadSync(healthProtoPath) };
  new ReflectionService(pkg, { services: [...options.services.map((s) => s.name), 'grpc.health.v1.Health'] }).addToServer(server);

  // The port is this process's own listener, handing each connection to grpc-js once the
  // connection guard let it in: grpc-js's own binding has no per-client limit.
  const injector = server.createConnectionInjector(credentials);
  const listener = createServer();
  listener.on('error', (err) => options.logger.error({ err, address: options.address }, 'gRPC listener failed'));
  guardConnections(listener, options.transport.edge ?? DEFAULT_CONNECTION_LIMITS, options.logger, options.address, (socket) => injector.injectConnection(socket));
  const host = options.address.slice(0, options.address.lastIndexOf(':'));
  const port = await listen(listener, host.replace(/^\[(.*)\]$/, '$1'), Number(options.address.slice(options.address.lastIndexOf(':') + 1)));
  const address = `${host}:${port}`;
  options.logger.info({ address, tls: options.transport.tls ? (options.transport.tls.requireClientCerts ? 'mutual' : 'server') : 'none', services: options.services.map((s) => s.name) }, 'gRPC server listening');

  // A dependency that stops answering (database, Kafka) turns every service of this server
  // NOT_SERVING for load balancers and orchestrators; the log and /readyz say which one.
  const stopWatching = onReadinessChange((r, before) => {
    for (const name of Object.keys(statuses)) health.setStatus(name, r.ready ? 'SERVING' : 'NOT_SERVING');
    const failing = Object.entries(r.checks).filter(([, v]) => v !== 'ok');
    if (r.ready && before === false) options.logger.info({ address }, 'dependencies answer again: SERVING');
    else if (r.ready) return;
    else options.logger.warn({ address, failing: Object.fromEntries(failing) }, `NOT_SERVING: ${failing.map(([k, v]) => `${k}: ${v}`).join('; ')}`);
  });

  return {
    address,
    health,
    stop: async (graceMs = 5_000) => {
      stopWatching();
      for (const name of Object.keys(statuses)) health.setStatus(name, 'NOT_SERVING');
      listener.close();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

/** A server whose services (whoever adds them: reflection and health add themselves) pass the gate. */
class GatedServer extends Server {
  constructor(
    private readonly gate: Gate,
    private readonly logger: Logger,
    private readonly watch: StreamWatch,
    options: ConstructorParameters<typeof Server>[0],
  ) {
    super(options);
  }

  override addService(service: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    const open = Object.values(service).every((m) => isOpen(m.path));
    super.addService(service, open ? implementation : gated(service, implementation, this.gate, this.logger, this.watch));
  }
}

/**
 * grpc-js answers a request it cannot decode with a bare INTERNAL. Our deserializers
 * return an UndecodableRequest instead, which the handler adapters answer with
 * INVALID_ARGUMENT saying what could not be read (e.g. a uint64 above 2^53), and they read
 * strings strictly: bytes that are not UTF-8 are refused naming the field (utf8-guard.ts),
 * never stored as replacement characters.
 */
function guardDecoding(definition: ServiceDefinition, types: RequestTypes): ServiceDefinition {
  const guarded: Record<string, ServiceDefinition[string]> = {};
  for (const [name, method] of Object.entries(definition)) {
    guarded[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          // The generated decoders take a reader as well as bytes; this one is strict about UTF-8.
          return method.requestDeserialize(strictReader(bytes) as unknown as Buffer);
        } catch (err) {
          if (isInvalidUtf8Error(err)) {
            const input = types.of(method.path);
            const field = (input && invalidUtf8Path(input, bytes)) || 'request';
            return new UndecodableRequest(ValidationError.single(field, 'utf8', 'must be valid UTF-8 (the bytes sent are not)'));
          }
          const why = String((err as Error)?.message ?? err).slice(0, 200);
          return new UndecodableRequest(ValidationError.single('request', 'undecodable', `cannot be decoded: ${why}`));
        }
      },
    };
  }
  return guarded as ServiceDefinition;
}

/** Listens on host:port (0: a free one) and answers the port bound. */
function listen(listener: NetServer, host: string, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen({ host, port }, () => {
      listener.off('error', reject);
      const bound = listener.address();
      resolve(typeof bound === 'object' && bound ? bound.port : port);
    });
  });
}
