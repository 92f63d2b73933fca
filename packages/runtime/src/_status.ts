// Errors across the wire: the agent turns a RuntimeError into a gRPC status (with its code in
// the trailers); the client turns any status back into a RuntimeError naming the agent.
import * as grpc from '@grpc/grpc-js';
import { RuntimeError, messageOf, type RuntimeErrorCode } from './errors.js';

const STATUS_OF: Partial<Record<RuntimeErrorCode, grpc.status>> = {
  RUNTIME_BAD_MESSAGE: grpc.status.INVALID_ARGUMENT,
  RUNTIME_BAD_OPTIONS: grpc.status.INVALID_ARGUMENT,
  RUNTIME_PLAN: grpc.status.INVALID_ARGUMENT,
  RUNTIME_TOO_LARGE: grpc.status.RESOURCE_EXHAUSTED,
  RUNTIME_HASH_MISMATCH: grpc.status.DATA_LOSS,
  RUNTIME_UNAVAILABLE: grpc.status.UNAVAILABLE,
  RUNTIME_DEADLINE: grpc.status.DEADLINE_EXCEEDED,
  RUNTIME_ABORTED: grpc.status.CANCELLED,
  RUNTIME_ENGINE: grpc.status.FAILED_PRECONDITION,
};

/** A gRPC status for a failure in a handler. */
export function toStatus(e: unknown): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  if (e instanceof RuntimeError) {
    metadata.set('dnnpart-code', e.code);
    return { code: STATUS_OF[e.code] ?? grpc.status.INTERNAL, details: e.message, metadata };
  }
  const code = (e as { code?: unknown })?.code;
  metadata.set('dnnpart-code', 'RUNTIME_AGENT_FAILED');
  return { code: grpc.status.INTERNAL, details: `${typeof code === 'string' ? `${code}: ` : ''}${messageOf(e)}`, metadata };
}

/** A RuntimeError for a failed call to agent `who` ("agent b at 127.0.0.1:7071"). */
export function fromStatus(err: unknown, who: string, what: string): RuntimeError {
  if (err instanceof RuntimeError) return err;
  const e = err as Partial<grpc.ServiceError>;
  const details = (e.details ?? messageOf(err)).replace(/\s+/g, ' ').trim();
  const sent = e.metadata?.get('dnnpart-code')[0];
  if (typeof sent === 'string' && /^RUNTIME_[A-Z_]+$/.test(sent)) return new RuntimeError(sent as RuntimeErrorCode, `${who}: ${what}: ${details}`, { cause: err });
  switch (e.code) {
    case grpc.status.UNAVAILABLE:
      return new RuntimeError('RUNTIME_UNAVAILABLE', `${who} does not answer (${what}: ${details}); is the agent running there, with the same TLS settings?`, { cause: err });
    case grpc.status.UNAUTHENTICATED:
      return new RuntimeError('RUNTIME_UNAUTHENTICATED', `${who} refused the credentials (${details}); check tokenFile and tls in the agents file`, { cause: err });
    case grpc.status.DEADLINE_EXCEEDED:
      return new RuntimeError('RUNTIME_DEADLINE', `${who}: ${what} did not finish within its deadline`, { cause: err });
    case grpc.status.RESOURCE_EXHAUSTED:
      return new RuntimeError('RUNTIME_TOO_LARGE', `${who}: ${what}: ${details} (raise the agent's --max-tensor-bytes)`, { cause: err });
    case grpc.status.CANCELLED:
      return new RuntimeError('RUNTIME_ABORTED', `${who}: ${what} was cancelled`, { cause: err });
    default:
      return new RuntimeError('RUNTIME_AGENT_FAILED', `${who}: ${what} failed: ${details}`, { cause: err });
  }
}
