// The one hand-written entry to the generated contracts. Everything under ./gen
// is produced by `nx run proto:generate` from proto/ and must not be edited.
export * from './gen/postbote/v1/access';
export * from './gen/postbote/v1/connector';
export * from './gen/postbote/v1/events';
export * from './gen/postbote/v1/storage';
export * from './gen/postbote/v1/trigger';
export * from './gen/postbote/v1/fetcher';
export * from './gen/postbote/v1/workspace';
export { Timestamp } from './gen/google/protobuf/timestamp';
export { Any } from './gen/google/protobuf/any';
export { Status } from './gen/google/rpc/status';
export { BadRequest, ErrorInfo } from './gen/google/rpc/error_details';
export { FILE_DESCRIPTOR_SET_BASE64 } from './gen/descriptor-set';
export { enumKey } from './enum-key';
