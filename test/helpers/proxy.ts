// A slow link for tests: a TCP proxy on loopback that forwards to a target
// at a bounded rate in each direction, with a delay on every chunk, and can
// stall completely for a while — what a congested SSH tunnel or a mobile
// link does to heaptop's stream. It applies backpressure like a real link:
// when more than `bufferBytes` wait in one direction it stops reading that
// side, so the sender's kernel buffers and then its HTTP/2 flow-control
// window fill up, instead of the proxy buffering without bound.
import net from 'node:net';

export type SlowLinkOptions = {
	/** Bytes per second in each direction. */
	readonly bytesPerSecond: number;
	/** Added to every chunk, in ms (one-way latency). */
	readonly delayMs?: number;
	/** Bytes waiting in one direction before the proxy stops reading it. */
	readonly bufferBytes?: number;
};

export type SlowLink = {
	/** "127.0.0.1:<port>" to give the client instead of the target. */
	readonly address: string;
	/** Bytes forwarded so far, target → client. */
	readonly forwarded: () => number;
	/** Forward nothing in either direction for `ms`, or until resume() (the connections stay open). */
	stall(ms?: number): void;
	resume(): void;
	close(): Promise<void>;
};

/** How often the pump hands out its byte budget. */
const pumpMs = 20;

/**
 * One direction of one connection: chunks queue up and leave at the link's
 * rate, each no earlier than `delayMs` after it arrived.
 */
class Direction {
	private readonly queue: Array<{data: Buffer; due: number}> = [];
	private queued = 0;

	constructor(
		private readonly from: net.Socket,
		private readonly to: net.Socket,
		private readonly options: Required<SlowLinkOptions>,
		private readonly count: (n: number) => void,
	) {
		from.on('data', (data: Buffer) => {
			this.queue.push({data, due: Date.now() + options.delayMs});
			this.queued += data.length;
			if (this.queued > options.bufferBytes) from.pause();
		});
	}

	/** Sends up to `budget` bytes that are due; returns what is left of the budget. */
	pump(budget: number, now: number): number {
		while (budget > 0 && this.queue.length > 0 && this.queue[0]!.due <= now) {
			const head = this.queue[0]!;
			const part = head.data.subarray(0, budget);
			if (part.length === head.data.length) this.queue.shift();
			else head.data = head.data.subarray(part.length);
			this.queued -= part.length;
			budget -= part.length;
			this.count(part.length);
			if (!this.to.destroyed) this.to.write(part);
		}
		if (this.queued <= this.options.bufferBytes && this.from.isPaused()) this.from.resume();
		return budget;
	}
}

/** Starts a slow link to `target` ("host:port"). */
export async function slowLink(target: string, options: SlowLinkOptions): Promise<SlowLink> {
	const o: Required<SlowLinkOptions> = {delayMs: 0, bufferBytes: 16 << 10, ...options};
	const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
	const links = new Set<{down: Direction; up: Direction; sockets: net.Socket[]}>();
	let forwarded = 0;
	let stalledUntil = 0;
	const server = net.createServer(client => {
		client.pause();
		const upstream = net.connect(port, host);
		const link = {
			down: new Direction(upstream, client, o, n => (forwarded += n)),
			up: new Direction(client, upstream, o, () => {}),
			sockets: [client, upstream],
		};
		links.add(link);
		const end = () => {
			links.delete(link);
			client.destroy();
			upstream.destroy();
		};
		for (const s of link.sockets) {
			s.on('error', end);
			s.on('close', end);
		}
		upstream.on('connect', () => client.resume());
	});
	const timer = setInterval(() => {
		const now = Date.now();
		if (now < stalledUntil) return;
		const budget = Math.ceil((o.bytesPerSecond * pumpMs) / 1000);
		for (const {down, up} of links) {
			down.pump(budget, now);
			up.pump(budget, now);
		}
	}, pumpMs);
	await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
	const {port: own} = server.address() as net.AddressInfo;
	return {
		address: `127.0.0.1:${own}`,
		forwarded: () => forwarded,
		stall(ms?: number) {
			stalledUntil = ms === undefined ? Infinity : Date.now() + ms;
		},
		resume() {
			stalledUntil = 0;
		},
		close() {
			clearInterval(timer);
			for (const {sockets} of links) for (const s of sockets) s.destroy();
			return new Promise<void>(resolve => server.close(() => resolve()));
		},
	};
}
