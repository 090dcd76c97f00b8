// The machine's limit for durable HTTP creates: node:http appending each POST body to a file with
// group commit (one write + one fdatasync for everything that arrived meanwhile), answering 201
// only once the body is on disk. Nothing else: no parsing rules, no indexes.
import { createServer } from 'node:http';
import { mkdtempSync, openSync, writeSync, fdatasyncSync } from 'node:fs';
import { fdatasync, write } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'scimdesk-bare-'));
const fd = openSync(join(dir, 'append.log'), 'a');
writeSync(fd, '');
fdatasyncSync(fd);

let queue = [];
let flushing = false;
function flush() {
  if (flushing || queue.length === 0) return;
  flushing = true;
  const batch = queue;
  queue = [];
  const data = Buffer.concat(batch.map((item) => item.line));
  write(fd, data, (error) => {
    if (error) throw error;
    fdatasync(fd, (syncError) => {
      if (syncError) throw syncError;
      for (const item of batch) item.done();
      flushing = false;
      flush();
    });
  });
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    queue.push({
      line: Buffer.concat([body, Buffer.from('\n')]),
      done: () => res.writeHead(201, { 'Content-Type': 'application/scim+json' }).end(body),
    });
    flush();
  });
});
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
