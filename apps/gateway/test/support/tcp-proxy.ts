import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP pass-through a test can cut: `cut()` drops every open connection and refuses new ones
 * (accepts and closes them at once), `mute()` drops the server's replies, `restore()` lets
 * connections and replies through again. Put between
 * the gateway and Postgres it simulates a database that blinks, without stopping the server
 * other test files share.
 */
export interface TcpProxy {
  port: number;
  cut(): void;
  /** Requests still reach the server, its replies are dropped (a reply lost on the way). */
  mute(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let refusing = false;
  let muted = false;
  const server: Server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = createConnection(target);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (!muted) client.write(chunk);
    });
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('proxy did not bind');
  return {
    port: address.port,
    cut() {
      refusing = true;
      for (const socket of open) socket.destroy();
    },
    mute() {
      muted = true;
    },
    restore() {
      refusing = false;
      muted = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A proxy to the server a URL names, and `through(url)`: a URL of that server, via the proxy. */
export interface UrlProxy extends TcpProxy {
  through(url: string): string;
}

/** Starts a TcpProxy in front of the host and port of `url` (Postgres's default port when none). */
export async function startProxyFor(url: string, defaultPort = 5432): Promise<UrlProxy> {
  const target = new URL(url);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || defaultPort) });
  return {
    ...proxy,
    through(url) {
      const via = new URL(url);
      via.hostname = '127.0.0.1';
      via.port = String(proxy.port);
      return via.toString();
    },
  };
}
