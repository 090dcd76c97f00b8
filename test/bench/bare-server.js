// The baseline for HTTP benchmarks: node:http answering a fixed JSON body, nothing else.
import { createServer } from 'node:http';

let body = '{}';
const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/set') {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      body = text;
      res.writeHead(204).end();
    });
    return;
  }
  res.writeHead(200, {
    'Content-Type': 'application/scim+json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
