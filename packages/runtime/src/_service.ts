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

/** Channel options both ends use: message sizes above the tensor limit (the limit itself is checked in _wire.ts). */
export function channelOptions(maxMessageBytes: number): grpc.ChannelOptions {
  return {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
    // A dead peer is noticed within seconds even when no call is in flight.
    'grpc.keepalive_time_ms': 10_000,
    'grpc.keepalive_timeout_ms': 5_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.max_pings_without_data': 0,
    // The client's receive window (the agent widens its own in agent.ts).
    'grpc-node.flow_control_window': 8 << 20,
  };
}
