import { Metadata, credentials, loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

// Plain gRPC clients for the standard health and reflection services, loaded from
// the .proto files those packages ship, as an outside tool (grpcurl, k8s) sees them.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- dynamic clients from proto-loader are untyped
type Dynamic = Record<string, (...args: any[]) => any>;

function ctor(protoFile: string, path: string[]): ServiceClientConstructor {
  const pkg = loadPackageDefinition(loadSync(protoFile, { keepCase: true, enums: String })) as GrpcObject;
  let node: unknown = pkg;
  for (const p of path) node = (node as GrpcObject)[p];
  return node as ServiceClientConstructor;
}

/** grpc.health.v1 Check for `service` ("" = the whole server). */
export async function healthStatus(address: string, service = ''): Promise<string> {
  const Health = ctor(require.resolve('grpc-health-check/proto/health/v1/health.proto'), ['grpc', 'health', 'v1', 'Health']);
  const client = new Health(address, credentials.createInsecure()) as unknown as Dynamic & { close(): void };
  try {
    return await new Promise<string>((resolve, reject) =>
      client['Check']?.({ service }, { deadline: Date.now() + 5_000 }, (err: Error | null, res: { status: string }) => (err ? reject(err) : resolve(res.status))),
    );
  } finally {
    client.close();
  }
}

/** The service names a server announces through reflection (grpc.reflection.v1), asked with an API token (reflection answers no stranger). */
export async function reflectedServices(address: string, token?: string): Promise<string[]> {
  const file = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
  const Reflection = ctor(file, ['grpc', 'reflection', 'v1', 'ServerReflection']);
  const client = new Reflection(address, credentials.createInsecure()) as unknown as Dynamic & { close(): void };
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const metadata = new Metadata();
      if (token) metadata.set('authorization', `Bearer ${token}`);
      const stream = client['ServerReflectionInfo']?.(metadata, { deadline: Date.now() + 5_000 });
      if (!stream) return reject(new Error('no ServerReflectionInfo method'));
      stream.on('data', (res: { list_services_response?: { service: Array<{ name: string }> } }) => {
        resolve((res.list_services_response?.service ?? []).map((s) => s.name).sort());
        stream.end();
      });
      stream.on('error', reject);
      stream.write({ list_services: '' });
    });
  } finally {
    client.close();
  }
}
