// How frames travel between stages. The coordinator and the agents only see `StageChannel`; the
// gRPC implementation is one `Transport`, so another (shared memory between two stages on one
// board, say) can be added without touching either of them.
import * as grpc from '@grpc/grpc-js';
import { agentService, channelOptions } from './_service.js';
import { fromStatus } from './_status.js';
import { clientCredentials, tokenMetadata, type PeerSpec } from './credentials.js';
import { RuntimeError } from './errors.js';

/** A one-way stream of encoded frames into one stage. */
export interface StageChannel {
  /** Send one frame; resolves once the transport has taken it, so a slow receiver slows the sender (back-pressure). */
  send(frame: Buffer): Promise<void>;
  /** Finish sending; resolves when the receiver has taken every frame. */
  close(): Promise<void>;
  /** Stop now, without waiting for the receiver. */
  abort(): void;
}

export interface StageChannelOptions {
  /** Names the receiver in errors ("stage 2 on agent c at 127.0.0.1:7072"). */
  readonly who: string;
  /** The channel's deadline (ms from now). */
  readonly deadlineMs: number;
  readonly maxMessageBytes: number;
  /** Frames written but not yet taken by the network; default 2. */
  readonly window?: number;
}

/** Something that opens stage channels to a peer. */
export interface Transport {
  readonly name: string;
  openStageChannel(peer: PeerSpec, options: StageChannelOptions): StageChannel;
}

const identity = (b: Buffer): Buffer => b;

/** A gRPC client for `peer` (TLS and message sizes set). */
export function grpcClient(peer: PeerSpec, maxMessageBytes: number): grpc.Client {
  const { creds, options } = clientCredentials(peer);
  return new grpc.Client(peer.address, creds, { ...channelOptions(maxMessageBytes), ...options });
}

class GrpcStageChannel implements StageChannel {
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientWritableStream<Buffer>;
  private readonly done: Promise<void>;
  private pending = 0;
  private error: RuntimeError | undefined;
  private waiters: (() => void)[] = [];
  private readonly window: number;

  constructor(peer: PeerSpec, private readonly opts: StageChannelOptions) {
    this.window = opts.window ?? 2;
    this.client = grpcClient(peer, opts.maxMessageBytes);
    let settle!: (e: Error | null) => void;
    this.done = new Promise<void>((resolve, reject) => {
      settle = (e) => (e ? reject(e) : resolve());
    });
    this.done.catch(() => {});
    this.call = this.client.makeClientStreamRequest<Buffer, Buffer>(
      agentService.Push.path, identity, identity, tokenMetadata(peer.token), { deadline: Date.now() + opts.deadlineMs },
      (err) => {
        if (err) this.fail(fromStatus(err, opts.who, 'receiving frames'));
        settle(this.error ?? null);
        this.client.close();
      },
    );
    this.call.on('error', () => {}); // reported through the callback above
  }

  private fail(e: RuntimeError): void {
    this.error ??= e;
    for (const w of this.waiters.splice(0)) w();
  }

  async send(frame: Buffer): Promise<void> {
    while (!this.error && this.pending >= this.window) await new Promise<void>((r) => this.waiters.push(r));
    if (this.error) throw this.error;
    this.pending++;
    this.call.write(frame, () => {
      this.pending--;
      this.waiters.shift()?.();
    });
  }

  async close(): Promise<void> {
    if (this.error) throw this.error;
    this.call.end();
    await this.done;
  }

  abort(): void {
    this.fail(new RuntimeError('RUNTIME_ABORTED', `${this.opts.who}: sending frames was stopped`));
    this.call.cancel();
    this.client.close();
  }
}

/** Frames over gRPC client streams (the Push method), with HTTP/2 flow control between hops. */
export const grpcTransport: Transport = {
  name: 'grpc',
  openStageChannel: (peer, options) => new GrpcStageChannel(peer, options),
};
