import { connect } from 'node:net';

/** Writes `raw` on a new connection to 127.0.0.1:`port` and resolves with all the server sent before it closed. */
export function rawExchange(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(raw));
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
  });
}

/** One HTTP answer read off the wire: its status line, X-Request-ID, head, and body (parsed when it is JSON). */
export function answerOf(text: string): { statusLine: string | undefined; requestId: string | undefined; head: string; body: unknown } {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  let parsed: unknown = body;
  try {
    parsed = JSON.parse(body);
  } catch {
    // Not JSON: the body as sent.
  }
  return { statusLine: head.split('\r\n')[0], requestId: /\r\nX-Request-ID: ([^\r\n]+)\r\n/i.exec(head)?.[1], head, body: parsed };
}
