import { createServer } from 'node:http';
import { Agent, request } from 'undici';

// The floor: the least a Node proxy can do. Every request is forwarded as it came (method,
// path, body, content type, auth headers) with undici over keep-alive connections, and the
// answer is streamed back as it arrives. No auth, no parsing, no accounting.
const upstream = process.env.UPSTREAM ?? 'http://127.0.0.1:8090';
const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000 });
const forwarded = ['content-type', 'authorization', 'x-api-key', 'anthropic-version'];

const server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers: Record<string, string> = {};
  for (const name of forwarded) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  try {
    const answer = await request(`${upstream}${req.url}`, {
      method: (req.method ?? 'GET') as 'GET' | 'POST',
      headers,
      body: chunks.length > 0 ? Buffer.concat(chunks) : null,
      dispatcher: agent,
    });
    const contentType = answer.headers['content-type'];
    res.writeHead(answer.statusCode, contentType ? { 'content-type': String(contentType) } : {});
    for await (const chunk of answer.body) res.write(chunk);
    res.end();
  } catch {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  }
});
server.keepAliveTimeout = 30_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(`floor listening on ${typeof address === 'object' && address ? address.port : '?'}`);
});
