// The agent's gRPC service, defined without codegen: every method carries raw message buffers
// (see _wire.ts), so (de)serialisation is the identity and all parsing happens in one place.
import * as grpc from '@grpc/grpc-js';

const identity = (b: Buffer): Buffer => b;

function method(name: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path: `/dnnpart.runtime.Agent/${name}`,
    requestStream,
    responseStream,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  };
}

/** Info: board facts; Profile: model chunks in, profile out; Sink, Drain: link-test targets (one message, a stream);
 * LinkTest: measure a link to a peer;
 * Stage: deploy a stage and follow its life (events, outputs); Push: frames into a deployed stage. */
export const agentService = {
  Info: method('Info', false, false),
  Profile: method('Profile', true, false),
  Sink: method('Sink', false, false),
  Drain: method('Drain', true, false),
  LinkTest: method('LinkTest', false, false),
  Stage: method('Stage', true, true),
  Push: method('Push', true, false),
} satisfies grpc.ServiceDefinition;

export type AgentMethod = keyof typeof agentService;

/** The generic client class of the service. */
export const AgentClientClass = grpc.makeGenericClientConstructor(agentService, 'dnnpart.runtime.Agent');

/** How long a ping may go unanswered before the connection is dropped: longer than any stage's load or run. */
export const KEEPALIVE_TIMEOUT_MS = 300_000;

/** Channel options both ends use: message sizes above the tensor limit (the limit itself is checked in _wire.ts). */
export function channelOptions(maxMessageBytes: number): grpc.ChannelOptions {
  return {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
    // A peer that is gone is noticed even when no call is in flight, but only after KEEPALIVE_TIMEOUT_MS:
    // onnxruntime-node creates sessions and runs them on the JavaScript thread, so an agent loading
    // or running a large stage, or a coordinator running its reference, answers no ping until done
    // (ISNet's unoptimised reference here: 7 s twice; with a 5 s timeout every agent dropped the
    // coordinator and the stages' deployment was refused). A run's stall deadline, not this, bounds
    // how long a stage may hold frames.
    'grpc.keepalive_time_ms': 10_000,
    'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.max_pings_without_data': 0,
    // The client's receive window (the agent widens its own in agent.ts).
    'grpc-node.flow_control_window': 8 << 20,
  };
}
