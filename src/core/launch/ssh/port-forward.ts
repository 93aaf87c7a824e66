import * as net from 'node:net';
import type { Disposable } from '../../util/disposable';
import type { SshConnection } from './ssh-connection';

/**
 * `ssh -L 127.0.0.1:<any>:<host>:<port>`: a loopback listener whose every socket is piped into a
 * direct-tcpip channel on the node's existing connection (forwards do not use MaxSessions slots).
 * Survives reconnects: each new socket asks the connection for the current client.
 */
export class LocalForward implements Disposable {
  private readonly sockets = new Set<net.Socket>();
  private readonly server: net.Server;
  private closed = false;
  private port = 0;

  private constructor(
    private readonly conn: SshConnection,
    private readonly remoteHost: string,
    private readonly remotePort: number,
  ) {
    this.server = net.createServer((sock) => this.accept(sock));
  }

  get localPort(): number {
    return this.port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async open(conn: SshConnection, remoteHost: string, remotePort: number): Promise<LocalForward> {
    const forward = new LocalForward(conn, remoteHost, remotePort);
    await new Promise<void>((resolve, reject) => {
      forward.server.once('error', reject);
      forward.server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = forward.server.address();
    if (address === null || typeof address === 'string') throw new Error('forward listener has no port');
    forward.port = address.port;
    return forward;
  }

  private accept(sock: net.Socket): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.pause();
    this.conn.forwardOut(this.remoteHost, this.remotePort).then(
      (ch) => {
        if (sock.destroyed) {
          ch.close();
          return;
        }
        ch.on('error', () => sock.destroy());
        ch.on('close', () => sock.destroy());
        sock.on('close', () => ch.close());
        sock.pipe(ch).pipe(sock);
        sock.resume();
      },
      (err: unknown) => this.refuse(sock, err),
    );
  }

  /**
   * The remote port is closed or the connection is down. Answer as a gateway would (502 with the
   * reason) once the request has arrived: closing a socket the client had not written to yet
   * left Node's fetch() waiting forever on its first request.
   */
  private refuse(sock: net.Socket, err: unknown): void {
    const target = this.remoteHost === '127.0.0.1' ? `port ${this.remotePort}` : `${this.remoteHost}:${this.remotePort}`;
    const reason = `MoE Bench could not reach ${target} on ${this.conn.endpoint.alias}: ${err instanceof Error ? err.message : String(err)}\n`;
    const answer = (): void => {
      clearTimeout(timer);
      if (sock.destroyed) return;
      sock.end(`HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(reason)}\r\nConnection: close\r\n\r\n${reason}`);
    };
    const timer = setTimeout(() => sock.destroy(), 10_000);
    timer.unref();
    if (sock.readableLength > 0) answer();
    else sock.once('data', answer);
    sock.resume();
  }

  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // open keep-alive sockets would hold server.close() forever
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
